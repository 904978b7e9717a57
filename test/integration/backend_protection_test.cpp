// Backend protection, end to end: outlier ejection, active health checks, panic mode,
// max_ejected_percent, max_in_flight with its queue, the retry budget, local rate limits,
// readiness, and state kept across a reload. Each test runs a gateway in front of several real
// mock-backend processes, fails them on demand through the mock's /__mock/ controls, and
// counts at the mocks what reached them.
#include <catch2/catch.hpp>

#include <signal.h>

#include <atomic>
#include <fstream>
#include <future>
#include <regex>
#include <thread>

#include "support/gateway_fixture.hpp"
#include "support/hardening.hpp"
#include "support/http_client.hpp"

using namespace test_support;
using Catch::Matchers::Contains;
using std::chrono::milliseconds;

namespace {

constexpr const char* kPenalty = "/v2/orgs/telco/penalties/214748364?reason=cancel";
constexpr const char* kBlocks = "/v2/orgs/telco/subscriptions/214748364/blocks";

/// A config with the two upstreams and one GET route each; `penalties` and `route` are YAML
/// lines (indented for the penalties upstream and for its route) with the protections tested.
/// The endpoints are placeholders (SELF_CARE, PENALTIES) that Protected fills in.
std::string protected_config(const std::string& penalties, const std::string& route = "",
                             const std::string& limits = "") {
    return "limits:\n  max_connections: 1000\n" + limits +
           "upstreams:\n"
           "  selfCareSocket:\n"
           "    endpoints: [SELF_CARE]\n"
           "  penalties:\n"
           "    endpoints: [PENALTIES]\n"
           "    request_timeout_ms: 5000\n" +
           penalties +
           "routes:\n"
           "  - name: get-subscription-blocks\n"
           "    method: GET\n"
           "    path: /v2/orgs/{orgId}/subscriptions/{subscriptionId:int64}/blocks\n"
           "    roles: [API_KEY]\n"
           "    upstream: selfCareSocket\n"
           "  - name: get-account-penalties\n"
           "    method: GET\n"
           "    path: /v2/orgs/{orgId}/penalties/{accountId:int64}\n"
           "    query:\n"
           "      reason: {type: enum, values: [unsubscribe, cancel], required: true}\n"
           "    roles: [API_KEY]\n"
           "    upstream: penalties\n" +
           route;
}

/// Sends a JSON body to one of a mock's /__mock/ controls.
void control(const MockBackend& mock, const std::string& method, const std::string& target,
             const std::string& body = {}) {
    HttpClient client(mock.port());
    const auto answer = client.send(method, target, {{"content-type", "application/json"}}, body);
    INFO(answer.describe());
    REQUIRE(answer.status == 200);
}

/// A gateway whose penalties upstream is `mocks` (in order) and whose selfCareSocket upstream
/// is a mock of its own, with an admin port.
struct Protected {
    Protected(const std::string& config_text, std::size_t penalties_mocks,
              std::vector<std::string> mock_args = {}, unsigned threads = 1) {
        for (std::size_t i = 0; i < penalties_mocks; ++i) {
            mocks.push_back(std::make_unique<MockBackend>(0, mock_args));
        }
        std::vector<std::size_t> all(mocks.size());
        for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
        config_path = dir.write("routes.yaml", with_endpoints(config_text, all));
        GatewayOptions options;
        options.config_path = config_path;
        options.threads = threads;
        options.endpoints_from_config = true;
        options.extra_args.push_back("--admin");
        options.extra_args.push_back("127.0.0.1:0");
        gateway = std::make_unique<Gateway>(options, self_care.endpoint());
        admin_port = admin_port_of(*gateway);
        client = std::make_unique<HttpClient>(gateway->port());
    }

    HttpResponse get(const char* target = kPenalty, Headers headers = {}) {
        return client->send("GET", target, api_key(std::move(headers)));
    }
    std::string admin(const std::string& target) { return HttpClient(admin_port).send("GET", target).body; }
    /// The value of one series in /metrics (0 when it is absent).
    double metric(const std::string& series) {
        const std::string text = admin("/metrics");
        const auto at = text.find("\n" + series + " ");
        if (at == std::string::npos) return 0;
        return std::stod(text.substr(at + series.size() + 2));
    }
    /// `text` with its placeholders replaced: penalties' endpoints are the mocks `which`.
    std::string with_endpoints(std::string text, const std::vector<std::size_t>& which) const {
        std::string list;
        for (const std::size_t i : which) list += (list.empty() ? "" : ", ") + mocks[i]->endpoint();
        text.replace(text.find("SELF_CARE"), 9, self_care.endpoint());
        text.replace(text.find("PENALTIES"), 9, list);
        return text;
    }
    long requests_at(std::size_t mock) { return mock_request_count(mocks[mock]->port()); }
    std::string endpoint(std::size_t mock) const { return mocks[mock]->endpoint(); }

    TempDir dir;
    std::string config_path;
    MockBackend self_care;
    std::vector<std::unique_ptr<MockBackend>> mocks;
    std::unique_ptr<Gateway> gateway;
    std::uint16_t admin_port = 0;
    std::unique_ptr<HttpClient> client;
};

/// The number after `"key":` in a JSON body (spaces allowed), or -1.
long json_number(const std::string& body, const std::string& key) {
    const auto at = body.find("\"" + key + "\"");
    if (at == std::string::npos) return -1;
    const auto colon = body.find(':', at);
    return std::stol(body.substr(colon + 1));
}

/// Waits until `condition` holds, checking every 20 ms, at most `limit`.
template <typename Condition>
bool eventually(Condition condition, milliseconds limit = milliseconds(5000)) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(milliseconds(20));
    }
    return condition();
}

/// The /upstreams JSON's object for endpoint `name` (a crude cut: the text between its
/// "endpoint" key and the closing brace), for Contains checks.
std::string endpoint_status(const std::string& upstreams_json, const std::string& name) {
    const auto at = upstreams_json.find("\"endpoint\":\"" + name + "\"");
    if (at == std::string::npos) return {};
    return upstreams_json.substr(at, upstreams_json.find('}', at) - at);
}

}  // namespace

TEST_CASE("protection: a failing endpoint is ejected after consecutive_failures and gets no more requests") {
    Protected p(protected_config("    outlier_detection: {consecutive_failures: 3, base_ejection_ms: 60000}\n"), 2);
    control(*p.mocks[1], "PUT", "/__mock/fault", R"({"mode":"empty-503"})");
    int ok = 0;
    for (int i = 0; i < 20; ++i) ok += p.get().status == 200 ? 1 : 0;
    // Round robin sent every other request to the failing endpoint until its third failure.
    CHECK(p.requests_at(1) == 3);
    CHECK(ok == 17);
    CHECK(p.requests_at(0) == 17);
    const std::string upstreams = p.admin("/upstreams");
    INFO(upstreams);
    CHECK_THAT(endpoint_status(upstreams, p.endpoint(1)), Contains("\"ejected\":true"));
    CHECK_THAT(endpoint_status(upstreams, p.endpoint(1)), Contains("\"last_error\":\"answered 503\""));
    CHECK_THAT(endpoint_status(upstreams, p.endpoint(0)), Contains("\"ejected\":false"));
    CHECK(p.metric("gateway_upstream_ejections_total{upstream=\"penalties\",endpoint=\"" + p.endpoint(1) + "\"}") == 1);
    CHECK(p.metric("gateway_upstream_endpoint_healthy{upstream=\"penalties\",endpoint=\"" + p.endpoint(1) + "\"}") == 0);
    CHECK(p.metric("gateway_upstream_endpoint_healthy{upstream=\"penalties\",endpoint=\"" + p.endpoint(0) + "\"}") == 1);
}

TEST_CASE("protection: a dead endpoint's requests go to the other one, and it is ejected after consecutive_failures") {
    Protected p(protected_config("    outlier_detection: {consecutive_failures: 3, base_ejection_ms: 60000}\n"), 2);
    p.mocks[1]->process().stop();  // its port now refuses connections
    for (int i = 0; i < 12; ++i) CHECK(p.get().status == 200);  // each refused try goes on to the live one
    const std::string upstreams = p.admin("/upstreams");
    INFO(upstreams);
    CHECK_THAT(endpoint_status(upstreams, p.endpoint(1)), Contains("\"ejected\":true"));
    CHECK_THAT(endpoint_status(upstreams, p.endpoint(1)), Contains("Connection refused"));
    // Ejected after its third refusal: the live endpoint took every request, the dead one was
    // tried three times.
    CHECK(p.requests_at(0) == 12);
    CHECK(p.metric("gateway_upstream_errors_total{upstream=\"penalties\",kind=\"refused\"}") == 3);
}

TEST_CASE("protection: an ejected endpoint is tried again when its ejection is up") {
    Protected p(protected_config("    outlier_detection: {consecutive_failures: 2, base_ejection_ms: 300}\n"), 2);
    control(*p.mocks[1], "PUT", "/__mock/fault", R"({"mode":"close"})");
    for (int i = 0; i < 8; ++i) p.get();
    const long failed = p.requests_at(1);
    CHECK(failed == 2);
    control(*p.mocks[1], "DELETE", "/__mock/fault");
    std::this_thread::sleep_for(milliseconds(400));
    for (int i = 0; i < 8; ++i) CHECK(p.get().status == 200);
    CHECK(p.requests_at(1) == failed + 4);  // back in its turn
}

TEST_CASE("protection: health checks take a failing endpoint out and put it back, and lift an ejection at once") {
    Protected p(protected_config("    outlier_detection: {consecutive_failures: 2, base_ejection_ms: 600000}\n"
                                 "    health_check: {path: /health, interval_ms: 100, timeout_ms: 100, "
                                 "healthy_threshold: 2, unhealthy_threshold: 2}\n"),
                2);
    // Out by its health checks: no request reaches it.
    control(*p.mocks[1], "PUT", "/__mock/health", R"({"status":503})");
    REQUIRE(eventually([&] {
        return endpoint_status(p.admin("/upstreams"), p.endpoint(1)).find("\"health\":\"unhealthy\"") !=
               std::string::npos;
    }));
    reset_mock_request_count(p.mocks[1]->port());
    for (int i = 0; i < 10; ++i) CHECK(p.get().status == 200);
    CHECK(p.requests_at(1) == 0);
    // Back after healthy_threshold passes.
    control(*p.mocks[1], "DELETE", "/__mock/health");
    REQUIRE(eventually([&] {
        return endpoint_status(p.admin("/upstreams"), p.endpoint(1)).find("\"health\":\"healthy\"") !=
               std::string::npos;
    }));
    for (int i = 0; i < 10; ++i) CHECK(p.get().status == 200);
    CHECK(p.requests_at(1) == 5);
    // Ejected for ten minutes by its failures, yet back within a probe or two once it answers
    // its health check: recovery does not wait for the ejection time. (Its /health never
    // failed, so the next probe lifts the ejection.)
    control(*p.mocks[1], "PUT", "/__mock/fault", R"({"mode":"empty-503"})");
    const std::string ejections =
        "gateway_upstream_ejections_total{upstream=\"penalties\",endpoint=\"" + p.endpoint(1) + "\"}";
    for (int i = 0; i < 4; ++i) p.get();
    REQUIRE(p.metric(ejections) == 1);
    control(*p.mocks[1], "DELETE", "/__mock/fault");
    const auto lifted = Clock::now();
    REQUIRE(eventually([&] {
        return endpoint_status(p.admin("/upstreams"), p.endpoint(1)).find("\"ejected\":false") !=
               std::string::npos;
    }));
    CHECK(Clock::now() - lifted < milliseconds(2000));
    CHECK(p.metric(ejections) == 1);
    reset_mock_request_count(p.mocks[1]->port());
    for (int i = 0; i < 10; ++i) CHECK(p.get().status == 200);
    CHECK(p.requests_at(1) == 5);
}

TEST_CASE("protection: with every endpoint failing its health checks, requests still go (panic mode, counted)") {
    Protected p(protected_config("    health_check: {interval_ms: 100, timeout_ms: 100}\n"), 2);
    for (auto& mock : p.mocks) control(*mock, "PUT", "/__mock/health", R"({"fault":"close"})");
    REQUIRE(eventually([&] {
        const std::string upstreams = p.admin("/upstreams");
        return endpoint_status(upstreams, p.endpoint(0)).find("unhealthy") != std::string::npos &&
               endpoint_status(upstreams, p.endpoint(1)).find("unhealthy") != std::string::npos;
    }));
    for (int i = 0; i < 6; ++i) CHECK(p.get().status == 200);
    CHECK(p.requests_at(0) + p.requests_at(1) == 6);
    CHECK(p.metric("gateway_upstream_panic_total{upstream=\"penalties\"}") == 6);
}

TEST_CASE("protection: max_ejected_percent is never exceeded, even when every endpoint fails") {
    Protected p(protected_config("    outlier_detection: {consecutive_failures: 2, base_ejection_ms: 60000, "
                                 "max_ejected_percent: 50}\n"),
                2);
    for (auto& mock : p.mocks) control(*mock, "PUT", "/__mock/fault", R"({"mode":"empty-503"})");
    for (int i = 0; i < 20; ++i) CHECK(p.get().status != 200);
    const std::string upstreams = p.admin("/upstreams");
    INFO(upstreams);
    const bool first = endpoint_status(upstreams, p.endpoint(0)).find("\"ejected\":true") != std::string::npos;
    const bool second = endpoint_status(upstreams, p.endpoint(1)).find("\"ejected\":true") != std::string::npos;
    CHECK(first != second);  // exactly one of the two
    // The one left takes everything that came after the ejection.
    CHECK(p.requests_at(first ? 1 : 0) > 15);
}

TEST_CASE("protection: beyond max_in_flight a request is refused with 503 in milliseconds, other upstreams unaffected") {
    Protected p(protected_config("    max_in_flight: 4\n    max_pending: 0\n"), 1);
    control(*p.mocks[0], "PUT", "/__mock/fault", R"({"mode":"delay-1500"})");
    std::vector<std::future<int>> held;
    for (int i = 0; i < 4; ++i) {
        held.push_back(std::async(std::launch::async, [&p] {
            HttpClient client(p.gateway->port());
            return client.send("GET", kPenalty, api_key()).status;
        }));
    }
    REQUIRE(eventually([&] { return p.requests_at(0) == 4; }));
    const auto sent = Clock::now();
    const auto refused = p.get();
    const auto took = Clock::now() - sent;
    INFO(refused.describe());
    CHECK(refused.status == 503);
    CHECK_THAT(refused.body, Contains("\"code\":50302"));
    CHECK_THAT(refused.body, Contains("Upstream overloaded"));
    CHECK_THAT(refused.body, Contains("max_in_flight"));
    CHECK(refused.header("Retry-After") == std::optional<std::string>("1"));
    CHECK(took < milliseconds(100));
    // The other upstream's route keeps its latency.
    const auto other_sent = Clock::now();
    CHECK(p.get(kBlocks).status == 200);
    CHECK(Clock::now() - other_sent < milliseconds(100));
    for (auto& request : held) CHECK(request.get() == 200);
    CHECK(p.requests_at(0) == 4);  // the refused one never reached the backend
    CHECK(p.metric("gateway_upstream_overflow_total{upstream=\"penalties\",reason=\"max_pending\"}") == 1);
}

TEST_CASE("protection: a request waits for a slot up to queue_timeout_ms, in order, across workers") {
    Protected p(protected_config("    max_in_flight: 2\n    max_pending: 4\n    queue_timeout_ms: 3000\n"), 1,
                {"--max-concurrency", "0", "--service-time-ms", "150"}, /*threads=*/2);
    // Six at once through two workers: never more than two at the backend, all served.
    std::vector<std::future<int>> requests;
    for (int i = 0; i < 6; ++i) {
        requests.push_back(std::async(std::launch::async, [&p] {
            HttpClient client(p.gateway->port());
            return client.send("GET", kPenalty, api_key()).status;
        }));
    }
    for (auto& request : requests) CHECK(request.get() == 200);
    const std::string concurrency = HttpClient(p.mocks[0]->port()).send("GET", "/__mock/concurrency").body;
    INFO(concurrency);
    CHECK(json_number(concurrency, "max_seen") == 2);
    CHECK(p.metric("gateway_upstream_in_flight{upstream=\"penalties\"}") == 0);
}

TEST_CASE("protection: a queued request gives up after queue_timeout_ms with 503, a full queue refuses at once") {
    Protected p(protected_config("    max_in_flight: 1\n    max_pending: 1\n    queue_timeout_ms: 300\n"), 1);
    control(*p.mocks[0], "PUT", "/__mock/fault", R"({"mode":"delay-1500"})");
    auto holder = std::async(std::launch::async, [&p] {
        return HttpClient(p.gateway->port()).send("GET", kPenalty, api_key()).status;
    });
    REQUIRE(eventually([&] { return p.requests_at(0) == 1; }));
    auto queued = std::async(std::launch::async, [&p] {
        const auto sent = Clock::now();
        const auto answer = HttpClient(p.gateway->port()).send("GET", kPenalty, api_key());
        return std::make_pair(answer, Clock::now() - sent);
    });
    REQUIRE(eventually([&] { return p.admin("/upstreams").find("\"pending\":1") != std::string::npos; }));
    const auto full = p.get();
    CHECK(full.status == 503);
    CHECK_THAT(full.body, Contains("max_pending"));
    const auto [answer, waited] = queued.get();
    INFO(answer.describe());
    CHECK(answer.status == 503);
    CHECK_THAT(answer.body, Contains("within 300 ms (queue_timeout_ms)"));
    CHECK(waited >= milliseconds(290));
    CHECK(waited < milliseconds(1000));
    CHECK(holder.get() == 200);
    CHECK(p.metric("gateway_upstream_overflow_total{upstream=\"penalties\",reason=\"queue_timeout\"}") == 1);
    CHECK(p.metric("gateway_upstream_overflow_total{upstream=\"penalties\",reason=\"max_pending\"}") == 1);
}

TEST_CASE("protection: a failed attempt is retried on the other endpoint") {
    Protected p(protected_config(""), 2);
    control(*p.mocks[0], "PUT", "/__mock/fault", R"({"mode":"close"})");
    for (int i = 0; i < 10; ++i) CHECK(p.get().status == 200);
    CHECK(p.requests_at(0) == 5);   // its turns, each failed
    CHECK(p.requests_at(1) == 10);  // its own turns and every retry
}

TEST_CASE("protection: the retry budget caps retries at its share of the requests") {
    Protected p(protected_config("    retry_budget_percent: 20\n"), 2);
    for (auto& mock : p.mocks) control(*mock, "PUT", "/__mock/fault", R"({"mode":"close"})");
    for (int i = 0; i < 50; ++i) CHECK(p.get().status == 502);
    // 50 requests, and retries while they stay within max(3, 20 % of the requests so far): 10.
    CHECK(p.requests_at(0) + p.requests_at(1) == 60);
    CHECK(p.metric("gateway_retry_budget_exhausted_total{upstream=\"penalties\"}") == 40);
}

TEST_CASE("protection: a rate-limited route answers 429 with Retry-After and RateLimit headers, forwarding nothing over the limit") {
    Protected p(protected_config("", "    rate_limit: {requests_per_second: 1, burst: 3, key: client_ip}\n"), 1);
    std::vector<int> statuses;
    HttpResponse refused;
    for (int i = 0; i < 5; ++i) {
        auto answer = p.get();
        statuses.push_back(answer.status);
        if (answer.status == 429) refused = answer;
    }
    CHECK(statuses == std::vector<int>{200, 200, 200, 429, 429});
    CHECK(p.requests_at(0) == 3);
    INFO(refused.describe());
    CHECK_THAT(refused.body, Contains("\"code\":42901"));
    CHECK_THAT(refused.body, Contains("Too many requests"));
    CHECK_THAT(refused.body, Contains("allows 1 request(s) a second per client address (bursts of up to 3)"));
    CHECK(refused.header("Retry-After") == std::optional<std::string>("1"));
    CHECK(refused.header("RateLimit-Policy") == std::optional<std::string>("\"get-account-penalties\";q=3;w=3"));
    CHECK(refused.header("RateLimit") == std::optional<std::string>("\"get-account-penalties\";r=0;t=1"));
    CHECK(p.metric("gateway_rate_limited_total{route=\"get-account-penalties\"}") == 2);
    // Another route is not limited, and a token is back after a second.
    CHECK(p.get(kBlocks).status == 200);
    std::this_thread::sleep_for(milliseconds(1050));
    CHECK(p.get().status == 200);
}

TEST_CASE("protection: a header-keyed rate limit gives each key its own bucket, and requests without it share one") {
    Protected p(protected_config("", "    rate_limit: {requests_per_second: 0.1, burst: 2, key: \"header:x-api-key\", max_keys: 100}\n"),
                1);
    for (const char* key : {"alpha", "beta"}) {
        CHECK(p.get(kPenalty, {{"x-api-key", key}}).status == 200);
        CHECK(p.get(kPenalty, {{"X-Api-Key", key}}).status == 200);
        CHECK(p.get(kPenalty, {{"x-api-key", key}}).status == 429);
    }
    CHECK(p.get().status == 200);
    CHECK(p.get().status == 200);
    CHECK(p.get().status == 429);
    // A flood of distinct keys keeps at most max_keys buckets.
    for (int i = 0; i < 500; ++i) p.get(kPenalty, {{"x-api-key", "flood-" + std::to_string(i)}});
    const double kept = p.metric("gateway_rate_limit_keys{route=\"get-account-penalties\"}");
    CHECK(kept == 100);
}

TEST_CASE("protection: /readyz is 503 while a required upstream has no healthy endpoint") {
    Protected p(protected_config("    health_check: {interval_ms: 100, timeout_ms: 100, healthy_threshold: 1, "
                                 "unhealthy_threshold: 1}\n",
                                 "", "  ready_requires_upstreams: [penalties]\n"),
                1);
    HttpClient admin(p.admin_port);
    REQUIRE(eventually([&] { return admin.send("GET", "/readyz").status == 200; }));
    control(*p.mocks[0], "PUT", "/__mock/health", R"({"status":500})");
    REQUIRE(eventually([&] { return admin.send("GET", "/readyz").status == 503; }));
    const auto unready = admin.send("GET", "/readyz");
    CHECK_THAT(unready.body, Contains("upstream penalties has no healthy endpoint"));
    control(*p.mocks[0], "DELETE", "/__mock/health");
    CHECK(eventually([&] { return admin.send("GET", "/readyz").status == 200; }));
}

TEST_CASE("protection: ejections and health survive a reload for the endpoints that stay; endpoints that leave are no longer probed") {
    // Probes a second apart: the test acts between two of them.
    const std::string settings = "    outlier_detection: {consecutive_failures: 2, base_ejection_ms: 60000}\n"
                                 "    health_check: {interval_ms: 1000, timeout_ms: 100}\n";
    Protected p(protected_config(settings), 3);
    control(*p.mocks[2], "PUT", "/__mock/health", R"({"status":503})");
    REQUIRE(eventually([&] {
        const std::string upstreams = p.admin("/upstreams");
        return endpoint_status(upstreams, p.endpoint(0)).find("\"healthy\"") != std::string::npos &&
               endpoint_status(upstreams, p.endpoint(1)).find("\"healthy\"") != std::string::npos &&
               endpoint_status(upstreams, p.endpoint(2)).find("\"unhealthy\"") != std::string::npos;
    }));
    // The second fails its requests and then its probes: ejected, and no probe lifts it.
    control(*p.mocks[1], "PUT", "/__mock/fault", R"({"mode":"empty-503"})");
    for (int i = 0; i < 6; ++i) p.get();
    control(*p.mocks[1], "PUT", "/__mock/health", R"({"status":503})");
    REQUIRE_THAT(endpoint_status(p.admin("/upstreams"), p.endpoint(1)), Contains("\"ejected\":true"));
    // The reload drops the third endpoint and changes a timeout: the second stays ejected.
    std::string next = p.with_endpoints(protected_config(settings), {0, 1});
    next.replace(next.find("request_timeout_ms: 5000"), 24, "request_timeout_ms: 4000");
    std::ofstream(p.config_path) << next;
    ::kill(p.gateway->process().pid(), SIGHUP);
    REQUIRE(eventually([&] { return p.admin("/upstreams").find(p.endpoint(2)) == std::string::npos; }));
    const std::string after = p.admin("/upstreams");
    INFO(after);
    CHECK_THAT(endpoint_status(after, p.endpoint(1)), Contains("\"ejected\":true"));
    CHECK_THAT(endpoint_status(after, p.endpoint(1)), Contains("\"ejections\":1"));
    CHECK_THAT(endpoint_status(after, p.endpoint(0)), Contains("\"health\":\"healthy\""));
    reset_mock_request_count(p.mocks[1]->port());
    for (int i = 0; i < 6; ++i) CHECK(p.get().status == 200);
    CHECK(p.requests_at(1) == 0);
    // The third endpoint's probes stop.
    const auto probes = [&] {
        return json_number(HttpClient(p.mocks[2]->port()).send("GET", "/__mock/health-probes").body, "probes");
    };
    const long before = probes();
    std::this_thread::sleep_for(milliseconds(1300));
    CHECK(probes() == before);
}

TEST_CASE("protection: least_request sends most requests to the endpoint that answers faster") {
    Protected p(protected_config("    load_balancing: least_request\n"), 2);
    control(*p.mocks[0], "PUT", "/__mock/fault", R"({"mode":"delay-200"})");
    std::vector<std::future<void>> clients;
    for (int c = 0; c < 4; ++c) {
        clients.push_back(std::async(std::launch::async, [&p] {
            HttpClient client(p.gateway->port());
            for (int i = 0; i < 10; ++i) client.send("GET", kPenalty, api_key());
        }));
    }
    for (auto& client : clients) client.get();
    const long slow = p.requests_at(0);
    const long fast = p.requests_at(1);
    INFO("slow " << slow << ", fast " << fast);
    CHECK(slow + fast == 40);
    // Round robin would give each 20. least_request evens out the requests in flight, so the
    // slow one gets a request only while it has fewer in flight than the fast one: in a
    // Release build about 5, under the sanitizers (where the fast one is slower too) about 11.
    CHECK(slow <= 14);
}
