// routes.yaml's `tracing:` section: what a good one loads into, its defaults, and each mistake
// as one diagnostic at its line and column.
#include <catch2/catch.hpp>

#include <algorithm>
#include <utility>

#include "config/config_loader.hpp"
#include "config/temp_config.hpp"

using namespace gateway;

namespace {

/// `tracing` (the file's first lines), then one upstream and one route.
std::string config_text(const std::string& tracing) {
    return tracing +
           "upstreams:\n"
           "  penalties:\n"
           "    endpoints: [127.0.0.1:9002]\n"
           "routes:\n"
           "  - name: get-account-penalties\n"
           "    method: GET\n"
           "    path: /v2/orgs/{orgId}/penalties/{accountId:int64}\n"
           "    roles: [API_KEY]\n"
           "    upstream: penalties\n";
}

LoadResult load(const std::string& tracing) {
    TempConfig files;
    return load_config(files.write(config_text(tracing)));
}

LoadResult load_serving(const std::string& tracing) {
    TempConfig files;
    return load_serving_config(files.write(config_text(tracing)));
}

std::string listed(const std::vector<Diagnostic>& diagnostics) {
    std::string all;
    for (const auto& d : diagnostics) {
        all += std::to_string(d.line) + ":" + std::to_string(d.column) + ": " + d.message + "\n";
    }
    return all;
}

/// The 1-based line and column of `at` in `text`: `at` occurs there once, and a '^' in it marks
/// the character meant (its first without one).
std::pair<int, int> position_of(const std::string& text, std::string at) {
    std::size_t shift = 0;
    if (const auto caret = at.find('^'); caret != std::string::npos) {
        shift = caret;
        at.erase(caret, 1);
    }
    const std::size_t found = text.find(at);
    REQUIRE(found != std::string::npos);
    REQUIRE(text.find(at, found + 1) == std::string::npos);  // unambiguous
    const std::size_t pos = found + shift;
    const std::size_t line_start = pos == 0 ? 0 : text.rfind('\n', pos - 1) + 1;  // npos + 1 is 0
    const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
    return {line, static_cast<int>(pos - line_start) + 1};
}

/// The tracing config `tracing` loads into (which must load without a diagnostic).
TracingConfig loaded(const std::string& tracing) {
    const auto result = load(tracing);
    INFO(tracing << "--\n" << listed(result.diagnostics));
    REQUIRE(result.config);
    CHECK(result.diagnostics.empty());
    CHECK(result.warnings.empty());
    REQUIRE(result.config->tracing);
    return *result.config->tracing;
}

}  // namespace

TEST_CASE("tracing config: without a tracing section there is none") {
    const auto result = load("");
    INFO(listed(result.diagnostics));
    REQUIRE(result.config);
    CHECK_FALSE(result.config->tracing);
}

TEST_CASE("tracing config: the defaults, with only otlp_endpoint") {
    const TracingConfig tracing = loaded("tracing:\n  otlp_endpoint: http://127.0.0.1:4318/v1/traces\n");
    CHECK(tracing.otlp_endpoint == "http://127.0.0.1:4318/v1/traces");
    CHECK(tracing.collector.host == "127.0.0.1");
    CHECK(tracing.collector.port == 4318);
    CHECK(tracing.path == "/v1/traces");
    CHECK(tracing.service_name == "api-gateway");
    CHECK(tracing.sampling_ratio == Approx(0.01));
    CHECK(tracing.respect_parent_sampling);
    CHECK(tracing.max_queue_spans == 8192);
}

TEST_CASE("tracing config: every key read") {
    const TracingConfig tracing = loaded("tracing:\n"
                                         "  otlp_endpoint: http://collector.observability.svc:55681/otlp/v1/traces\n"
                                         "  service_name: edge-gateway\n"
                                         "  sampling_ratio: 0.25\n"
                                         "  respect_parent_sampling: false\n"
                                         "  max_queue_spans: 100\n");
    CHECK(tracing.otlp_endpoint == "http://collector.observability.svc:55681/otlp/v1/traces");
    CHECK(tracing.collector.host == "collector.observability.svc");
    CHECK(tracing.collector.port == 55681);
    CHECK(tracing.path == "/otlp/v1/traces");
    CHECK(tracing.service_name == "edge-gateway");
    CHECK(tracing.sampling_ratio == Approx(0.25));
    CHECK_FALSE(tracing.respect_parent_sampling);
    CHECK(tracing.max_queue_spans == 100);
}

TEST_CASE("tracing config: the endpoint's port defaults to 80 and its path to /v1/traces, IPv6 in brackets") {
    const TracingConfig bare = loaded("tracing: {otlp_endpoint: \"http://otel-collector\"}\n");
    CHECK(bare.collector.host == "otel-collector");
    CHECK(bare.collector.port == 80);
    CHECK(bare.path == "/v1/traces");

    const TracingConfig no_path = loaded("tracing: {otlp_endpoint: \"http://127.0.0.1:4318\"}\n");
    CHECK(no_path.collector.port == 4318);
    CHECK(no_path.path == "/v1/traces");

    const TracingConfig root = loaded("tracing: {otlp_endpoint: \"http://127.0.0.1:4318/\"}\n");
    CHECK(root.path == "/");

    const TracingConfig v6 = loaded("tracing: {otlp_endpoint: \"http://[::1]:4318/v1/traces\"}\n");
    CHECK(v6.collector.host == "::1");
    CHECK(v6.collector.port == 4318);
    CHECK(v6.path == "/v1/traces");

    const TracingConfig v6_bare = loaded("tracing: {otlp_endpoint: \"http://[::1]/x\"}\n");
    CHECK(v6_bare.collector.host == "::1");
    CHECK(v6_bare.collector.port == 80);
    CHECK(v6_bare.path == "/x");
}

TEST_CASE("tracing config: the bounds themselves load") {
    const TracingConfig low = loaded("tracing:\n  otlp_endpoint: http://127.0.0.1:1\n  sampling_ratio: 0\n"
                                     "  max_queue_spans: 1\n");
    CHECK(low.collector.port == 1);
    CHECK(low.sampling_ratio == 0);
    CHECK(low.max_queue_spans == 1);
    const TracingConfig high = loaded("tracing:\n  otlp_endpoint: http://127.0.0.1:65535\n  sampling_ratio: 1\n"
                                      "  max_queue_spans: 1000000\n");
    CHECK(high.collector.port == 65535);
    CHECK(high.sampling_ratio == 1);
    CHECK(high.max_queue_spans == 1000000);
    CHECK(loaded("tracing:\n  otlp_endpoint: http://127.0.0.1:4318\n  sampling_ratio: 1.0\n").sampling_ratio == 1);
    CHECK(loaded("tracing:\n  otlp_endpoint: http://127.0.0.1:4318\n  sampling_ratio: 1e-3\n").sampling_ratio ==
          Approx(0.001));
    CHECK(loaded("tracing:\n  otlp_endpoint: http://127.0.0.1:4318\n  service_name: " + std::string(255, 's') + "\n")
              .service_name.size() == 255);
}

TEST_CASE("tracing config: serving resolves the collector's address, and a name that does not resolve fails") {
    const auto numeric = load_serving("tracing:\n  otlp_endpoint: http://127.0.0.1:4318/v1/traces\n");
    INFO(listed(numeric.diagnostics));
    REQUIRE(numeric.config);
    REQUIRE(numeric.config->tracing);
    CHECK(numeric.config->tracing->collector.address == "127.0.0.1");

    const auto unknown = load_serving("tracing:\n  otlp_endpoint: http://no-such-collector.invalid:4318/v1/traces\n");
    INFO(listed(unknown.diagnostics));
    CHECK_FALSE(unknown.config);
    REQUIRE(unknown.diagnostics.size() == 1);
    CHECK_THAT(unknown.diagnostics[0].message, Catch::Contains("tracing otlp_endpoint: cannot resolve 'no-such-collector.invalid'"));
}

namespace {

struct Mistake {
    const char* what;
    std::string tracing;
    std::string at;  // where the diagnostic points (see position_of)
    std::string fragment;
};

const std::string kEndpoint = "  otlp_endpoint: http://127.0.0.1:4318/v1/traces\n";
const std::string kEndpointMessage = "tracing otlp_endpoint must be http://HOST:PORT/PATH (OTLP/HTTP";

const Mistake kMistakes[] = {
    {"no otlp_endpoint", "tracing:\n  sampling_ratio: 1\n", "^sampling_ratio",
     "tracing needs 'otlp_endpoint' (the OTLP/HTTP collector, e.g. http://127.0.0.1:4318/v1/traces)"},
    {"https", "tracing:\n  otlp_endpoint: https://collector:4318/v1/traces\n", "https://collector",
     "got 'https://collector:4318/v1/traces': https is not supported"},
    {"another scheme", "tracing:\n  otlp_endpoint: grpc://collector:4317\n", "grpc://", "it must start with http://"},
    {"no scheme", "tracing:\n  otlp_endpoint: 127.0.0.1:4318\n", "127.0.0.1:4318", "it must start with http://"},
    {"no host", "tracing:\n  otlp_endpoint: http:///v1/traces\n", "http:///", "no host"},
    {"a port but no host", "tracing:\n  otlp_endpoint: http://:4318/v1/traces\n", "http://:4318",
     "no HOST:PORT with a port from 1 to 65535"},
    {"port 0", "tracing:\n  otlp_endpoint: http://127.0.0.1:0/v1/traces\n", "http://127.0.0.1:0",
     "no HOST:PORT with a port from 1 to 65535"},
    {"port 65536", "tracing:\n  otlp_endpoint: http://127.0.0.1:65536/v1/traces\n", "http://127.0.0.1:65536",
     "no HOST:PORT with a port from 1 to 65535"},
    {"a port that is no number", "tracing:\n  otlp_endpoint: http://127.0.0.1:otlp/v1/traces\n", "http://127.0.0.1:otlp",
     "no HOST:PORT with a port from 1 to 65535"},
    {"a query", "tracing:\n  otlp_endpoint: http://127.0.0.1:4318/v1/traces?x=1\n", "http://127.0.0.1:4318/v1/traces?",
     "no query, fragment or space in the path"},
    {"otlp_endpoint a list", "tracing:\n  otlp_endpoint: [http://127.0.0.1:4318]\n", "^[http",
     "tracing otlp_endpoint must be a non-empty string"},
    {"sampling_ratio -0.1", "tracing:\n" + kEndpoint + "  sampling_ratio: -0.1\n", "-0.1",
     "tracing sampling_ratio must be a number from 0 to 1 (0.01 traces one request in a hundred), got '-0.1'"},
    {"sampling_ratio 1.5", "tracing:\n" + kEndpoint + "  sampling_ratio: 1.5\n", "1.5",
     "tracing sampling_ratio must be a number from 0 to 1 (0.01 traces one request in a hundred), got '1.5'"},
    {"sampling_ratio x", "tracing:\n" + kEndpoint + "  sampling_ratio: x\n", "ratio: ^x",
     "tracing sampling_ratio must be a number from 0 to 1 (0.01 traces one request in a hundred), got 'x'"},
    {"sampling_ratio quoted", "tracing:\n" + kEndpoint + "  sampling_ratio: \"0.5\"\n", "\"0.5\"",
     "tracing sampling_ratio must be a number from 0 to 1"},
    {"sampling_ratio a percentage", "tracing:\n" + kEndpoint + "  sampling_ratio: 1%\n", "1%",
     "tracing sampling_ratio must be a number from 0 to 1"},
    {"sampling_ratio nan", "tracing:\n" + kEndpoint + "  sampling_ratio: nan\n", "nan",
     "tracing sampling_ratio must be a number from 0 to 1"},
    {"sampling_ratio a list", "tracing:\n" + kEndpoint + "  sampling_ratio: [0.5]\n", "^[0.5]",
     "tracing sampling_ratio must be a number from 0 to 1"},
    {"an unknown key", "tracing:\n" + kEndpoint + "  sampling_rate: 0.5\n", "^sampling_rate",
     "unknown key 'sampling_rate' in tracing; did you mean 'sampling_ratio'?"},
    {"max_queue_spans 0", "tracing:\n" + kEndpoint + "  max_queue_spans: 0\n", "max_queue_spans: ^0",
     "tracing max_queue_spans must be between 1 and 1000000, got 0"},
    {"max_queue_spans 1000001", "tracing:\n" + kEndpoint + "  max_queue_spans: 1000001\n", "1000001",
     "tracing max_queue_spans must be between 1 and 1000000, got 1000001"},
    {"max_queue_spans a fraction", "tracing:\n" + kEndpoint + "  max_queue_spans: 10.5\n", "10.5",
     "tracing max_queue_spans must be an integer"},
    {"respect_parent_sampling not a boolean", "tracing:\n" + kEndpoint + "  respect_parent_sampling: maybe\n", "maybe",
     "tracing respect_parent_sampling must be true or false"},
    {"service_name too long", "tracing:\n" + kEndpoint + "  service_name: " + std::string(256, 's') + "\n",
     "^" + std::string(256, 's'), "tracing service_name must be 1 to 255 characters"},
    {"service_name empty", "tracing:\n" + kEndpoint + "  service_name: \"\"\n", "\"\"", "tracing service_name must not be empty"},
    {"tracing a list", "tracing: [http://127.0.0.1:4318]\n", "^[http", "tracing must be a mapping"},
    {"tracing a string", "tracing: http://127.0.0.1:4318\n", "^http", "tracing must be a mapping"},
};

}  // namespace

TEST_CASE("tracing config: each mistake is one diagnostic at its place") {
    for (const auto& mistake : kMistakes) {
        const std::string text = config_text(mistake.tracing);
        const auto [line, column] = position_of(text, mistake.at);
        const auto result = load(mistake.tracing);
        INFO(mistake.what << "\n" << text << "--\n" << listed(result.diagnostics));
        CHECK_FALSE(result.config);
        CHECK(result.diagnostics.size() == 1);
        REQUIRE_FALSE(result.diagnostics.empty());
        const auto& d = result.diagnostics.front();
        CHECK(d.line == line);
        CHECK(d.column == column);
        CHECK_THAT(d.message, Catch::Contains(mistake.fragment));
    }
}

TEST_CASE("tracing config: an endpoint's message quotes it and shows the expected form") {
    const auto result = load("tracing:\n  otlp_endpoint: http://127.0.0.1:0/v1/traces\n");
    REQUIRE(result.diagnostics.size() == 1);
    CHECK_THAT(result.diagnostics[0].message, Catch::StartsWith(kEndpointMessage));
    CHECK_THAT(result.diagnostics[0].message, Catch::Contains("got 'http://127.0.0.1:0/v1/traces'"));
}
