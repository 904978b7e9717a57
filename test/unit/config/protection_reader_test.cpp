// routes.yaml's backend-protection keys (upstreams' load_balancing, max_in_flight, max_pending,
// queue_timeout_ms, outlier_detection, health_check, retry_budget_percent; routes' rate_limit;
// limits.ready_requires_upstreams): what a good file loads into, and what `--check` says about
// each mistake, at its line and column.
#include <catch2/catch.hpp>

#include <algorithm>

#include "config/config_loader.hpp"
#include "config/temp_config.hpp"

using namespace gateway;

namespace {

/// `limits:` and its settings first, then the upstream's, then the route's (each block's lines
/// go where the comment of its parameter says).
std::string config_text(const std::string& limits, const std::string& upstream,
                        const std::string& route) {
    return "limits:\n  max_connections: 100\n" + limits +
           "upstreams:\n"
           "  penalties:\n"
           "    endpoints: [127.0.0.1:9002, 127.0.0.1:9003]\n" +
           upstream +
           "routes:\n"
           "  - name: get-account-penalties\n"
           "    method: GET\n"
           "    path: /v2/orgs/{orgId}/penalties/{accountId:int64}\n"
           "    roles: [API_KEY]\n"
           "    upstream: penalties\n" +
           route;
}

LoadResult load(const std::string& limits, const std::string& upstream, const std::string& route) {
    TempConfig files;
    return load_config(files.write(config_text(limits, upstream, route)), {});
}

std::string all_diagnostics(const LoadResult& result) {
    std::string all;
    for (const auto& d : result.diagnostics) {
        all += std::to_string(d.line) + ":" + std::to_string(d.column) + ": " + d.message + "\n";
    }
    return all;
}

}  // namespace

TEST_CASE("protection keys load into the upstream and the route") {
    const auto result = load("  ready_requires_upstreams: [penalties]\n",
                             "    load_balancing: least_request\n"
                             "    max_in_flight: 256\n"
                             "    max_pending: 128\n"
                             "    queue_timeout_ms: 200\n"
                             "    outlier_detection: {consecutive_failures: 4, base_ejection_ms: 10000, max_ejected_percent: 50}\n"
                             "    health_check: {path: \"/health?deep=1\", interval_ms: 2000, timeout_ms: 500, healthy_threshold: 2, unhealthy_threshold: 3}\n"
                             "    retry_budget_percent: 20\n",
                             "    rate_limit: {requests_per_second: 50, burst: 100, key: \"header:X-Api-Key\", max_keys: 1000}\n");
    INFO(all_diagnostics(result));
    REQUIRE(result.config);
    const UpstreamConfig& upstream = result.config->upstreams.at(0);
    CHECK(upstream.load_balancing == LoadBalancing::least_request);
    CHECK(upstream.max_in_flight == 256);
    CHECK(upstream.max_pending == 128);
    CHECK(upstream.queue_timeout == std::chrono::milliseconds(200));
    REQUIRE(upstream.outlier_detection);
    CHECK(upstream.outlier_detection->consecutive_failures == 4);
    CHECK(upstream.outlier_detection->base_ejection == std::chrono::milliseconds(10000));
    CHECK(upstream.outlier_detection->max_ejected_percent == 50);
    REQUIRE(upstream.health_check);
    CHECK(upstream.health_check->path == "/health?deep=1");
    CHECK(upstream.health_check->interval == std::chrono::milliseconds(2000));
    CHECK(upstream.health_check->timeout == std::chrono::milliseconds(500));
    CHECK(upstream.health_check->healthy_threshold == 2);
    CHECK(upstream.health_check->unhealthy_threshold == 3);
    CHECK(upstream.retry_budget_percent == std::optional<std::size_t>(20));
    const RouteConfig& route = result.config->routes.at(0);
    REQUIRE(route.rate_limit);
    CHECK(route.rate_limit->requests_per_second == 50);
    CHECK(route.rate_limit->burst == 100);
    CHECK(route.rate_limit->key == RateLimit::Key::header);
    CHECK(route.rate_limit->header_name == "x-api-key");  // header names are case-insensitive
    CHECK(route.rate_limit->key_text == "header:x-api-key");
    CHECK(route.rate_limit->max_keys == 1000);
    CHECK(result.config->limits.ready_requires_upstreams == std::vector<std::size_t>{0});
}

TEST_CASE("without protection keys an upstream and a route keep today's behaviour") {
    const auto result = load("", "", "");
    REQUIRE(result.config);
    const UpstreamConfig& upstream = result.config->upstreams.at(0);
    CHECK(upstream.load_balancing == LoadBalancing::round_robin);
    CHECK(upstream.max_in_flight == 0);
    CHECK_FALSE(upstream.outlier_detection);
    CHECK_FALSE(upstream.health_check);
    CHECK_FALSE(upstream.retry_budget_percent);
    CHECK_FALSE(result.config->routes.at(0).rate_limit);
    CHECK(result.config->limits.ready_requires_upstreams.empty());
}

TEST_CASE("empty protection blocks take their defaults, and the queue is as deep as the limit") {
    const auto result = load("", "    max_in_flight: 10\n    outlier_detection: {}\n    health_check: {}\n",
                             "    rate_limit: {requests_per_second: 2.5}\n");
    INFO(all_diagnostics(result));
    REQUIRE(result.config);
    const UpstreamConfig& upstream = result.config->upstreams.at(0);
    CHECK(upstream.max_pending == 10);
    CHECK(upstream.queue_timeout == std::chrono::milliseconds(1000));
    REQUIRE(upstream.outlier_detection);
    CHECK(upstream.outlier_detection->consecutive_failures == 5);
    CHECK(upstream.outlier_detection->max_ejected_percent == 50);
    REQUIRE(upstream.health_check);
    CHECK(upstream.health_check->path == "/health");
    const auto& limit = *result.config->routes.at(0).rate_limit;
    CHECK(limit.requests_per_second == 2.5);
    CHECK(limit.burst == 3);  // a second's worth, rounded up
    CHECK(limit.key == RateLimit::Key::route);
}

namespace {

/// `line` counts within the block that holds the mistake (the row's one non-empty block of
/// limits, upstream and route; for an upstream mistake, its line in the upstream's lines).
struct Mistake {
    const char* what;
    std::string limits;
    std::string upstream;
    std::string route;
    int line;
    int column;
    std::string fragment;
};

int lines_of(const std::string& text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')); }

/// The file line of a mistake: limits' extra lines start at 3, the upstream's after the five
/// lines above them, the route's after the six route lines.
int file_line(const Mistake& mistake) {
    const int limits_start = 3;
    const int upstream_start = limits_start + lines_of(mistake.limits) + 3;
    const int route_start = upstream_start + lines_of(mistake.upstream) + 6;
    if (!mistake.route.empty()) return route_start + mistake.line - 1;
    if (!mistake.upstream.empty()) return upstream_start + mistake.line - 1;
    return limits_start + mistake.line - 1;
}

const Mistake kMistakes[] = {
    {"unknown balancer", "", "    load_balancing: least_requests\n", "", 1, 21,
     "load_balancing must be one of round_robin, least_request, got 'least_requests'; did you mean 'least_request'?"},
    {"max_in_flight zero", "", "    max_in_flight: 0\n", "", 1, 20, "max_in_flight must be between 1 and 1000000, got 0"},
    {"max_pending without max_in_flight", "", "    max_pending: 5\n", "", 1, 18,
     "max_pending needs max_in_flight"},
    {"queue_timeout_ms without max_in_flight", "", "    queue_timeout_ms: 5\n", "", 1, 23,
     "queue_timeout_ms needs max_in_flight"},
    {"queue timeout with a unit", "", "    max_in_flight: 5\n    queue_timeout_ms: 200ms\n", "", 2, 23,
     "queue_timeout_ms must be an integer, got '200ms'"},
    {"outlier_detection left empty", "", "    outlier_detection:\n", "", 1, 5,
     "outlier_detection must be a mapping (write outlier_detection: {} for the defaults)"},
    {"a misspelt outlier key", "", "    outlier_detection: {consecutive_failure: 3}\n", "", 1, 25,
     "consecutive_failure"},
    {"consecutive_failures zero", "", "    outlier_detection: {consecutive_failures: 0}\n", "", 1, 47,
     "consecutive_failures must be between 1 and 1000, got 0"},
    {"max_ejected_percent over 100", "", "    outlier_detection: {max_ejected_percent: 150}\n", "", 1, 46,
     "max_ejected_percent must be between 0 and 100, got 150"},
    {"health path without a slash", "", "    health_check: {path: health}\n", "", 1, 26,
     "health_check.path must start with '/'"},
    {"health timeout longer than its interval", "", "    health_check: {interval_ms: 100, timeout_ms: 500}\n", "",
     1, 50, "timeout_ms (500) must not be longer than interval_ms (100)"},
    {"healthy_threshold zero", "", "    health_check: {healthy_threshold: 0}\n", "", 1, 39,
     "healthy_threshold must be between 1 and 100, got 0"},
    {"retry budget over 100", "", "    retry_budget_percent: 120\n", "", 1, 27,
     "retry_budget_percent must be between 0 and 100, got 120"},
    {"rate limit without a rate", "", "", "    rate_limit: {burst: 10}\n", 1, 17,
     "rate_limit needs 'requests_per_second'"},
    {"a rate of zero", "", "", "    rate_limit: {requests_per_second: 0}\n", 1, 39,
     "requests_per_second must be a number of requests above 0 and at most 1000000, got '0'"},
    {"a quoted rate", "", "", "    rate_limit: {requests_per_second: \"50\"}\n", 1, 39,
     "quoted, so a string"},
    {"a header key without a name", "", "", "    rate_limit: {requests_per_second: 5, key: \"header:\"}\n", 1,
     47, "'header:' needs the header's name after the colon"},
    {"a header key with a space", "", "", "    rate_limit: {requests_per_second: 5, key: \"header:x api\"}\n",
     1, 47, "is no header name"},
    {"an unknown key kind", "", "", "    rate_limit: {requests_per_second: 5, key: client-ip}\n", 1, 47,
     "must be one of client_ip, route, header:NAME, got 'client-ip'; did you mean 'client_ip'?"},
    {"burst zero", "", "", "    rate_limit: {requests_per_second: 5, burst: 0}\n", 1, 49,
     "burst must be between 1 and 1000000, got 0"},
    {"a rate limit that is a number", "", "", "    rate_limit: 50\n", 1, 17, "rate_limit must be a mapping"},
    {"an unknown upstream in ready_requires_upstreams", "  ready_requires_upstreams: [penaltis]\n", "", "", 1, 30,
     "unknown upstream 'penaltis'; did you mean 'penalties'?"},
};

}  // namespace

TEST_CASE("each protection mistake is one diagnostic at its place") {
    for (const auto& mistake : kMistakes) {
        const int line = file_line(mistake);
        const auto result = load(mistake.limits, mistake.upstream, mistake.route);
        INFO(mistake.what << "\n" << all_diagnostics(result));
        CHECK_FALSE(result.config);
        REQUIRE(result.diagnostics.size() == 1);
        const auto& d = result.diagnostics.front();
        CHECK(d.line == line);
        CHECK(d.column == mistake.column);
        CHECK_THAT(d.message, Catch::Contains(mistake.fragment));
    }
}

TEST_CASE("a max_ejected_percent that allows no ejection is a warning") {
    const auto result = load("", "    outlier_detection: {max_ejected_percent: 10}\n", "");
    REQUIRE(result.config);
    REQUIRE(result.warnings.size() == 1);
    CHECK_THAT(result.warnings.front().message, Catch::Contains("none will ever be ejected"));
}
