// Tracing export, end to end: a gateway with a `tracing:` section in front of mock-backend,
// exporting to test/support/otlp_receiver.mjs, a Node.js OTLP/HTTP collector that checks every
// body against the official OTLP definitions (@opentelemetry/otlp-transformer's protobufjs root)
// and shows the spans it accepted. The spans' shape and ids, their agreement with the access log
// and with the traceparent the upstream got, sampling, retries towards the collector, a dead
// collector, and the drain on SIGTERM.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "observe/span.hpp"
#include "support/bodies.hpp"
#include "support/access_log_lines.hpp"
#include "support/gateway_fixture.hpp"
#include "support/hardening.hpp"
#include "support/http_client.hpp"
#include "support/otlp_receiver.hpp"

using namespace test_support;
using std::chrono::milliseconds;
namespace fs = std::filesystem;

namespace {

constexpr const char* kBlocks = "/v2/orgs/telco/subscriptions/214748364/blocks";
constexpr const char* kBlocksName = "GET /v2/orgs/{orgId}/subscriptions/{subscriptionId}/blocks";
constexpr const char* kBlocksRoute = "/v2/orgs/{orgId}/subscriptions/{subscriptionId}/blocks";
constexpr const char* kPenalty = "/v2/orgs/telco/penalties/214748364?reason=cancel";
constexpr const char* kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr const char* kParentId = "00f067aa0ba902b7";

std::string traceparent(const std::string& flags) {
    return std::string("00-") + kTraceId + "-" + kParentId + "-" + flags;
}

std::uint64_t wall_ns() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

/// routes.yaml with a `tracing:` section sending to `url`, then `lines` (its other keys).
std::string with_tracing(const std::string& url, const std::string& lines, std::string routes = project_routes_text()) {
    return routes + "\ntracing:\n  otlp_endpoint: " + url + "\n" + lines;
}

/// A gateway from `config_text` (its upstreams pointed at `mock` unless `endpoints_from_config`),
/// with an admin port and an access log.
struct TracedGateway {
    TracedGateway(const std::string& config_text, const MockBackend& mock, std::vector<std::string> extra = {},
                  bool endpoints_from_config = false) {
        log = dir.path() / "access.log";
        GatewayOptions options;
        options.config_path = dir.write("routes.yaml", config_text);
        options.endpoints_from_config = endpoints_from_config;
        options.extra_args = {"--admin", "127.0.0.1:0", "--access-log", log.string()};
        options.extra_args.insert(options.extra_args.end(), extra.begin(), extra.end());
        gateway = std::make_unique<Gateway>(options, mock.endpoint());
        const auto line = gateway->process().wait_for_line("admin listening on ", Clock::now() + kStartupTimeout);
        REQUIRE(line);
        admin_port = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
    }

    HttpClient client() const { return HttpClient(gateway->port()); }

    /// The value of one series in /metrics (-1 when it is absent).
    double metric(const std::string& series) const {
        const std::string text = HttpClient(admin_port).send("GET", "/metrics").body;
        const auto at = text.find("\n" + series + " ");
        if (at == std::string::npos) return -1;
        return std::stod(text.substr(at + series.size() + 2));
    }

    /// Waits for the access log's line of request `request_id`.
    rapidjson::Document log_line(const std::string& request_id) const {
        rapidjson::Document found;
        const bool seen = poll_until(
            [&] {
                std::istringstream text(read_text_file(log.string()));
                for (std::string line; std::getline(text, line);) {
                    rapidjson::Document parsed;
                    parsed.Parse(line.c_str());
                    if (parsed.HasParseError() || !parsed.IsObject() || !parsed.HasMember("request_id")) continue;
                    if (json_text(parsed["request_id"]) == request_id) {
                        found = std::move(parsed);
                        return true;
                    }
                }
                return false;
            },
            Clock::now() + milliseconds(3000));
        INFO("request id " << request_id << " in " << read_text_file(log.string()));
        REQUIRE(seen);
        return found;
    }

    /// The trace id the access log gives request `request_id`.
    std::string trace_of(const std::string& request_id) const { return json_text(log_line(request_id)["trace_id"]); }

    TempDir dir;
    fs::path log;
    std::unique_ptr<Gateway> gateway;
    std::uint16_t admin_port = 0;
};

/// The traceparent the upstream got, from mock-backend's echo (exactly one, or "").
std::string upstream_traceparent(const HttpResponse& response) {
    const auto echo = parse_echo(response.body);
    if (!echo.valid || echo.header_count("traceparent") != 1) return {};
    return echo.header("traceparent").value_or("");
}

std::string describe(const std::vector<ReceivedSpan>& spans) {
    std::string out;
    for (const auto& span : spans) out += span.describe() + "\n";
    return out;
}

/// The `q`-quantile of `samples` (nearest rank).
double quantile(std::vector<double> samples, double q) {
    std::sort(samples.begin(), samples.end());
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(samples.size())));
    return samples[std::min(samples.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace

TEST_CASE("tracing: a GET exports a server span and a client span, and the upstream's parent is the client span") {
    OtlpReceiver receiver;
    MockBackend mock;
    TracedGateway gw(with_tracing(receiver.url(), "  sampling_ratio: 1\n  service_name: gateway-under-test\n"), mock);
    const std::uint64_t before = wall_ns();
    const auto response = gw.client().send(
        "GET", kBlocks, api_key({{"Host", "api.example.test:8443"}, {"x-request-id", "traced-get"}, {"x-mock-echo", "1"}}));
    REQUIRE(response.status == 200);
    const auto echo = parse_echo(response.body);
    REQUIRE(echo.valid);
    CHECK(echo.header_count("traceparent") == 1);

    const auto line = gw.log_line("traced-get");
    const std::string trace_id = json_text(line["trace_id"]);
    const std::string span_id = json_text(line["span_id"]);
    CHECK(is_lower_hex_id(trace_id, 32));
    CHECK(is_lower_hex_id(span_id, 16));
    const auto spans = receiver.wait_for_trace(trace_id, 2);
    const std::uint64_t after = wall_ns();  // the spans had ended before they were exported
    INFO(describe(spans));
    REQUIRE(spans.size() == 2);
    const ReceivedSpan& server = spans[0];
    const ReceivedSpan& client = spans[1];

    CHECK(server.kind == 2);
    CHECK(server.name == kBlocksName);
    CHECK(server.trace_id == trace_id);
    CHECK(server.span_id == span_id);  // the access log's span_id is the server span's
    CHECK(server.parent_span_id.empty());
    CHECK(server.attributes.text("http.request.method") == "GET");
    CHECK(server.attributes.text("url.path") == kBlocks);
    CHECK_FALSE(server.attributes.has("url.query"));
    CHECK(server.attributes.text("http.route") == kBlocksRoute);
    CHECK(server.attributes.text("gateway.route") == "get-subscription-blocks");
    CHECK(server.attributes.integer("http.response.status_code") == 200);
    CHECK(server.attributes.text("network.peer.address") == "127.0.0.1");
    CHECK(server.attributes.text("server.address") == "api.example.test");
    CHECK_FALSE(server.attributes.has("error.type"));
    CHECK_FALSE(server.attributes.has("gateway.error_code"));
    CHECK(server.events.empty());
    CHECK(server.status_code == 0);
    CHECK(server.resource.at("service.name") == "gateway-under-test");
    CHECK(server.scope_name == "api-gateway");

    CHECK(client.kind == 3);
    CHECK(client.trace_id == trace_id);
    CHECK(client.parent_span_id == server.span_id);
    CHECK(is_lower_hex_id(client.span_id, 16));
    CHECK(client.span_id != server.span_id);
    CHECK(client.attributes.text("http.request.method") == "GET");
    CHECK(client.attributes.text("gateway.upstream") == "selfCareSocket");
    CHECK(client.attributes.text("server.address") == "127.0.0.1");
    CHECK(client.attributes.integer("server.port") == mock.port());
    CHECK(client.attributes.text("network.peer.address") == "127.0.0.1");
    CHECK(client.attributes.integer("http.response.status_code") == 200);
    CHECK_FALSE(client.attributes.has("http.request.resend_count"));
    CHECK(client.status_code == 0);

    // The upstream's traceparent names the attempt that reached it.
    CHECK(upstream_traceparent(response) == "00-" + trace_id + "-" + client.span_id + "-01");

    // Within the test's wall-clock window, the client span inside the server span.
    CHECK(before <= server.start_unix_ns);
    CHECK(server.start_unix_ns <= client.start_unix_ns);
    CHECK(client.start_unix_ns <= client.end_unix_ns);
    CHECK(client.end_unix_ns <= server.end_unix_ns);
    CHECK(server.end_unix_ns <= after);

    const auto posts = receiver.posts();
    REQUIRE_FALSE(posts.empty());
    for (const auto& post : posts) {
        INFO(post.problem);
        CHECK(post.status == 200);
    }
    REQUIRE(poll_until([&] { return gw.metric("gateway_tracing_spans_exported_total") == 2; },
                       Clock::now() + milliseconds(3000)));
    CHECK(gw.metric("gateway_tracing_spans_dropped_total") == 0);
    CHECK(gw.metric("gateway_tracing_export_failures_total") == 0);
}

TEST_CASE("tracing: a caller's sampled traceparent is continued: its trace id, its span as the parent") {
    OtlpReceiver receiver;
    MockBackend mock;
    TracedGateway gw(with_tracing(receiver.url(), "  sampling_ratio: 1\n"), mock);
    HttpClient client = gw.client();
    const auto response = client.send(
        "GET", kPenalty,
        api_key({{"traceparent", traceparent("01")}, {"x-request-id", "continued"}, {"x-mock-echo", "1"}}));
    REQUIRE(response.status == 200);
    const auto line = gw.log_line("continued");
    CHECK(json_text(line["trace_id"]) == kTraceId);

    const auto spans = receiver.wait_for_trace(kTraceId, 2);
    INFO(describe(spans));
    REQUIRE(spans.size() == 2);
    CHECK(spans[0].kind == 2);
    CHECK(spans[0].parent_span_id == kParentId);
    CHECK(spans[0].span_id == json_text(line["span_id"]));
    CHECK(spans[0].span_id != kParentId);
    CHECK(spans[0].name == "GET /v2/orgs/{orgId}/penalties/{accountId}");
    CHECK(spans[0].attributes.text("url.path") == "/v2/orgs/telco/penalties/214748364");
    CHECK(spans[0].attributes.text("url.query") == "reason=cancel");
    CHECK(spans[0].attributes.text("gateway.route") == "get-account-penalties");
    CHECK(spans[0].events.empty());
    CHECK(spans[1].kind == 3);
    CHECK(spans[1].parent_span_id == spans[0].span_id);
    CHECK(upstream_traceparent(response) == std::string("00-") + kTraceId + "-" + spans[1].span_id + "-01");

    SECTION("an invalid traceparent starts a new trace, and the server span says why") {
        const std::string upper = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01";
        REQUIRE(client.send("GET", kBlocks, api_key({{"traceparent", upper}, {"x-request-id", "replaced"}})).status == 200);
        const std::string trace_id = gw.trace_of("replaced");
        CHECK(trace_id != kTraceId);
        const auto replaced = receiver.wait_for_trace(trace_id, 2);
        INFO(describe(replaced));
        REQUIRE(replaced.size() == 2);
        CHECK(replaced[0].parent_span_id.empty());
        REQUIRE(replaced[0].events.size() == 1);
        CHECK(replaced[0].events[0].name == "gateway.traceparent_replaced");
        CHECK(replaced[0].events[0].attributes.text("gateway.reason").value_or("").size() > 0);
        CHECK(replaced[0].events[0].time_unix_ns == replaced[0].start_unix_ns);
    }
}

TEST_CASE("tracing: a retry on another endpoint is a second client span, and the upstream sees that span's id") {
    OtlpReceiver receiver;
    MockBackend mock;
    ClosedPort dead;
    std::string routes = project_routes_text();
    const std::string penalties = "    endpoints: [127.0.0.1:9002]\n";
    const std::string self_care = "    endpoints: [127.0.0.1:9001]\n";
    REQUIRE(routes.find(penalties) != std::string::npos);
    REQUIRE(routes.find(self_care) != std::string::npos);
    routes.replace(routes.find(penalties), penalties.size(),
                   "    endpoints: [127.0.0.1:" + std::to_string(dead.port()) + ", " + mock.endpoint() + "]\n");
    routes.replace(routes.find(self_care), self_care.size(), "    endpoints: [" + mock.endpoint() + "]\n");
    TracedGateway gw(with_tracing(receiver.url(), "  sampling_ratio: 1\n", routes), mock, {}, true);
    HttpClient client = gw.client();

    // Round robin: within two requests one tries the dead endpoint first.
    std::vector<ReceivedSpan> spans;
    HttpResponse retried;
    for (int i = 0; i < 4 && spans.size() != 3; ++i) {
        const std::string id = "retried-" + std::to_string(i);
        retried = client.send("GET", kPenalty, api_key({{"x-request-id", id}, {"x-mock-echo", "1"}}));
        REQUIRE(retried.status == 200);
        spans = receiver.wait_for_trace(gw.trace_of(id), 2);
        if (spans.size() == 2) {  // wait a little for the third: a request's spans come together
            spans = receiver.wait_for_trace(spans[0].trace_id, 3, milliseconds(200));
        }
    }
    INFO(describe(spans));
    REQUIRE(spans.size() == 3);
    const ReceivedSpan& server = spans[0];
    ReceivedSpan first = spans[1];
    ReceivedSpan second = spans[2];
    if (first.start_unix_ns > second.start_unix_ns) std::swap(first, second);

    CHECK(server.kind == 2);
    CHECK(server.attributes.integer("http.response.status_code") == 200);
    CHECK(server.status_code == 0);
    CHECK(first.kind == 3);
    CHECK(second.kind == 3);
    CHECK(first.parent_span_id == server.span_id);
    CHECK(second.parent_span_id == server.span_id);
    CHECK(std::set<std::string>{server.span_id, first.span_id, second.span_id}.size() == 3);

    CHECK(first.attributes.integer("server.port") == dead.port());
    CHECK(first.status_code == 2);
    CHECK(first.attributes.text("error.type") == "refused");
    CHECK_FALSE(first.attributes.has("http.response.status_code"));
    CHECK_FALSE(first.attributes.has("http.request.resend_count"));
    CHECK(first.attributes.text("gateway.upstream") == "penalties");

    CHECK(second.attributes.integer("server.port") == mock.port());
    CHECK(second.attributes.integer("http.request.resend_count") == 1);
    CHECK(second.attributes.integer("http.response.status_code") == 200);
    CHECK(second.status_code == 0);
    CHECK_FALSE(second.attributes.has("error.type"));
    CHECK(first.end_unix_ns <= second.start_unix_ns);

    CHECK(upstream_traceparent(retried) == "00-" + server.trace_id + "-" + second.span_id + "-01");
}

TEST_CASE("tracing: a refused request's server span has the error code and a gateway.refused event, and no client span") {
    OtlpReceiver receiver;
    MockBackend mock;
    TracedGateway gw(with_tracing(receiver.url(), "  sampling_ratio: 1\n"), mock);
    HttpClient client = gw.client();
    const long forwarded_before = mock_request_count(mock.port());

    struct Refused {
        const char* id;
        std::string method;
        std::string target;
        Headers headers;
        std::string body;
        int status;
        int code;  // 0: any
        const char* check;
        const char* name;
    };
    const std::vector<Refused> cases = {
        {"no-roles", "GET", kBlocks, {}, "", 401, 40101, "auth", kBlocksName},
        {"bad-param", "GET", "/v2/orgs/telco/subscriptions/abc/blocks", api_key(), "", 400, 40001, "params", kBlocksName},
        {"no-route", "GET", "/v2/orgs/telco/nothing", api_key(), "", 404, 40401, "match", "GET"},
        {"bad-body", "PATCH", "/v2/orgs/telco/subscriptions/214748364/blocks/1",
         api_key({{"Content-Type", "application/json"}}), "{not json", 400, 0, "body",
         "PATCH /v2/orgs/{orgId}/subscriptions/{subscriptionId}/blocks/{blockId}"},
    };
    for (const auto& refused : cases) {
        Headers headers = refused.headers;
        headers.emplace_back("x-request-id", refused.id);
        const auto response = client.send(refused.method, refused.target, headers, refused.body);
        INFO(refused.id << ": " << response.describe());
        REQUIRE(response.status == refused.status);
    }
    for (const auto& refused : cases) {
        INFO(refused.id);
        const std::string trace_id = gw.trace_of(refused.id);
        auto spans = receiver.wait_for_trace(trace_id, 1);
        REQUIRE(spans.size() == 1);
        const ReceivedSpan& server = spans[0];
        INFO(server.describe());
        CHECK(server.kind == 2);
        CHECK(server.name == refused.name);
        CHECK(server.attributes.integer("http.response.status_code") == refused.status);
        const auto code = server.attributes.integer("gateway.error_code");
        REQUIRE(code);
        if (refused.code != 0) CHECK(*code == refused.code);
        CHECK(*code / 100 == refused.status);
        CHECK(server.attributes.text("error.type") == std::to_string(*code));
        CHECK(server.status_code == 0);  // a 4xx is the client's error, not the server span's
        REQUIRE(server.events.size() == 1);
        const ReceivedEvent& event = server.events[0];
        CHECK(event.name == "gateway.refused");
        CHECK(event.attributes.text("gateway.check") == refused.check);
        CHECK(event.attributes.integer("gateway.error_code") == *code);
        CHECK(event.attributes.text("exception.message").value_or("").size() > 0);
        CHECK(server.start_unix_ns <= event.time_unix_ns);
        CHECK(event.time_unix_ns <= server.end_unix_ns);
        if (std::string(refused.name) == "GET") {
            CHECK_FALSE(server.attributes.has("http.route"));
        } else {
            CHECK(server.attributes.has("http.route"));
        }
    }
    // A request that follows them, to be sure nothing else of theirs is still on the way.
    REQUIRE(client.send("GET", kBlocks, api_key({{"x-request-id", "marker"}})).status == 200);
    const std::string marker = gw.trace_of("marker");
    REQUIRE(receiver.wait_for_trace(marker, 2).size() == 2);
    const auto all = receiver.spans();
    INFO(describe(all));
    CHECK(all.size() == cases.size() + 2);
    for (const auto& span : all) {
        if (span.trace_id != marker) CHECK(span.kind == 2);
    }
    CHECK(mock_request_count(mock.port()) == forwarded_before + 1);
}

TEST_CASE("tracing: an upstream's 5xx, timeout or reset makes error spans, each retry its own") {
    OtlpReceiver receiver;
    MockBackend mock;
    TracedGateway gw(with_tracing(receiver.url(), "  sampling_ratio: 1\n"), mock, {"--upstream-timeout-ms", "300"});
    HttpClient client = gw.client();
    REQUIRE(client.send("GET", kBlocks, api_key({{"x-request-id", "html-500"}, {"x-mock-fault", "html-500"}})).status == 500);
    REQUIRE(client.send("GET", kBlocks, api_key({{"x-request-id", "hang"}, {"x-mock-fault", "hang"}})).status == 504);
    REQUIRE(client.send("GET", kBlocks, api_key({{"x-request-id", "close"}, {"x-mock-fault", "close"}})).status == 502);

    const auto check_server = [&](const ReceivedSpan& server, const std::string& request_id, int status) {
        const auto line = gw.log_line(request_id);
        CHECK(server.kind == 2);
        CHECK(server.attributes.integer("http.response.status_code") == status);
        REQUIRE(line["error_code"].IsInt());
        const int code = line["error_code"].GetInt();
        CHECK(server.attributes.integer("gateway.error_code") == code);
        CHECK(server.attributes.text("error.type") == std::to_string(code));
        CHECK(server.status_code == 2);  // a 5xx: the server span's error
        CHECK(server.status_message == std::to_string(code));
        CHECK(server.events.empty());    // not refused: the upstream failed
    };

    const auto html = receiver.wait_for_trace(gw.trace_of("html-500"), 2);
    INFO(describe(html));
    REQUIRE(html.size() == 2);
    check_server(html[0], "html-500", 500);
    CHECK(html[1].attributes.integer("http.response.status_code") == 500);
    CHECK(html[1].attributes.text("error.type") == "500");
    CHECK(html[1].status_code == 2);

    const auto hang = receiver.wait_for_trace(gw.trace_of("hang"), 2);
    INFO(describe(hang));
    REQUIRE(hang.size() == 2);
    check_server(hang[0], "hang", 504);
    CHECK_FALSE(hang[1].attributes.has("http.response.status_code"));
    CHECK(hang[1].attributes.text("error.type") == "timeout");
    CHECK(hang[1].status_code == 2);
    CHECK(hang[1].end_unix_ns - hang[1].start_unix_ns >= 250'000'000ULL);  // it waited for the timeout

    // A connection closed before any byte of an answer: a GET is tried once more, on a fresh
    // connection, which fails the same way.
    const auto reset = receiver.wait_for_trace(gw.trace_of("close"), 3);
    INFO(describe(reset));
    REQUIRE(reset.size() == 3);
    check_server(reset[0], "close", 502);
    for (std::size_t i = 1; i < reset.size(); ++i) {
        CHECK(reset[i].kind == 3);
        CHECK(reset[i].parent_span_id == reset[0].span_id);
        CHECK(reset[i].attributes.text("error.type") == "reset");
        CHECK(reset[i].status_code == 2);
    }
    CHECK(reset[1].span_id != reset[2].span_id);
    const bool second_is_retry = reset[2].attributes.integer("http.request.resend_count") == 1;
    const bool first_is_retry = reset[1].attributes.integer("http.request.resend_count") == 1;
    CHECK(first_is_retry != second_is_retry);
}

TEST_CASE("tracing: a reload sends the spans to the new collector, and one without tracing stops the export") {
    OtlpReceiver first;
    OtlpReceiver second;
    MockBackend mock;
    TracedGateway gw(with_tracing(first.url(), "  sampling_ratio: 1\n"), mock);
    const auto reload = [&](const std::string& text, int routes_reloads) {
        gw.dir.write("routes.yaml", text);
        ::kill(gw.gateway->process().pid(), SIGHUP);
        REQUIRE(poll_until(
            [&] {
                int seen = 0;
                std::istringstream lines(read_text_file(gw.log.string()));
                for (std::string line; std::getline(lines, line);) {
                    if (line.find("\"event\":\"config_reloaded\"") != std::string::npos) ++seen;
                }
                return seen >= routes_reloads;
            },
            Clock::now() + milliseconds(3000)));
    };
    HttpClient client = gw.client();
    REQUIRE(client.send("GET", kBlocks, api_key({{"x-request-id", "before"}})).status == 200);
    REQUIRE(first.wait_for_trace(gw.trace_of("before"), 2).size() == 2);

    reload(with_tracing(second.url(), "  sampling_ratio: 1\n  service_name: reloaded\n"), 1);
    REQUIRE(client.send("GET", kBlocks, api_key({{"x-request-id", "after"}})).status == 200);
    const auto moved = second.wait_for_trace(gw.trace_of("after"), 2);
    INFO(describe(moved));
    REQUIRE(moved.size() == 2);
    CHECK(moved[0].resource.at("service.name") == "reloaded");
    CHECK(spans_of_trace(first.spans(), gw.trace_of("after")).empty());

    reload(project_routes_text(), 2);
    const auto off = client.send("GET", kBlocks, api_key({{"x-request-id", "off"}, {"x-mock-echo", "1"}}));
    REQUIRE(off.status == 200);
    // Still propagated, no longer recorded (the upstream's parent is the gateway's span).
    CHECK(upstream_traceparent(off) == "00-" + gw.trace_of("off") + "-" + json_text(gw.log_line("off")["span_id"]) + "-00");
    std::this_thread::sleep_for(milliseconds(1500));  // past the batch interval
    CHECK(spans_of_trace(second.spans(), gw.trace_of("off")).empty());
    CHECK(spans_of_trace(first.spans(), gw.trace_of("off")).empty());
    CHECK(gw.metric("gateway_tracing_spans_exported_total") == 4);
    CHECK(gw.gateway->process().running());
}

TEST_CASE("tracing: sampling follows a sampled parent when respect_parent_sampling is true, else the ratio") {
    OtlpReceiver receiver;
    MockBackend mock;
    const Headers echo{{"x-mock-echo", "1"}};
    const auto flags_of = [](const HttpResponse& response) {
        const std::string sent = upstream_traceparent(response);
        return sent.size() == 55 ? sent.substr(53) : "<" + sent + ">";
    };

    SECTION("ratio 0: a request without a parent, or with an unsampled one, is not traced, a sampled one is") {
        TracedGateway gw(with_tracing(receiver.url(), "  sampling_ratio: 0\n"), mock);
        HttpClient client = gw.client();
        const auto alone = client.send("GET", kBlocks, api_key({{"x-request-id", "alone"}, {"x-mock-echo", "1"}}));
        const auto unsampled = client.send("GET", kBlocks, api_key({{"traceparent", traceparent("00")}, {"x-mock-echo", "1"}}));
        const auto sampled = client.send("GET", kBlocks, api_key({{"traceparent", traceparent("01")}, {"x-mock-echo", "1"}}));
        CHECK(flags_of(alone) == "00");
        CHECK(flags_of(unsampled) == "00");
        CHECK(flags_of(sampled) == "01");
        REQUIRE(receiver.wait_for_trace(kTraceId, 2).size() == 2);
        const auto all = receiver.spans();
        INFO(describe(all));
        CHECK(all.size() == 2);  // the sampled request's alone
        CHECK(spans_of_trace(all, gw.trace_of("alone")).empty());
    }
    SECTION("ratio 1: an unsampled parent is still not traced, a request without one is") {
        TracedGateway gw(with_tracing(receiver.url(), "  sampling_ratio: 1\n  respect_parent_sampling: true\n"), mock);
        HttpClient client = gw.client();
        const auto unsampled = client.send("GET", kBlocks, api_key({{"traceparent", traceparent("00")}, {"x-mock-echo", "1"}}));
        const auto alone = client.send("GET", kBlocks, api_key({{"x-request-id", "alone"}, {"x-mock-echo", "1"}}));
        CHECK(flags_of(unsampled) == "00");
        CHECK(flags_of(alone) == "01");
        REQUIRE(receiver.wait_for_trace(gw.trace_of("alone"), 2).size() == 2);
        const auto all = receiver.spans();
        INFO(describe(all));
        CHECK(all.size() == 2);
        CHECK(spans_of_trace(all, kTraceId).empty());
    }
    SECTION("respect_parent_sampling false, ratio 1: an unsampled parent is traced, the gateway decides") {
        TracedGateway gw(with_tracing(receiver.url(), "  sampling_ratio: 1\n  respect_parent_sampling: false\n"), mock);
        const auto unsampled = gw.client().send("GET", kBlocks, api_key({{"traceparent", traceparent("00")}, {"x-mock-echo", "1"}}));
        CHECK(flags_of(unsampled) == "01");
        const auto spans = receiver.wait_for_trace(kTraceId, 2);
        INFO(describe(spans));
        REQUIRE(spans.size() == 2);
        CHECK(spans[0].parent_span_id == kParentId);
    }
    SECTION("respect_parent_sampling false, ratio 0: a sampled parent is not traced") {
        TracedGateway gw(with_tracing(receiver.url(), "  sampling_ratio: 0\n  respect_parent_sampling: false\n"), mock);
        HttpClient client = gw.client();
        for (int i = 0; i < 5; ++i) {
            const auto sampled = client.send("GET", kBlocks, api_key({{"traceparent", traceparent("01")}, {"x-mock-echo", "1"}}));
            REQUIRE(sampled.status == 200);
            CHECK(flags_of(sampled) == "00");
        }
        // No marker can be traced here: wait past the exporter's 1 s batch interval instead.
        std::this_thread::sleep_for(milliseconds(1500));
        CHECK(receiver.posts().empty());
        CHECK(receiver.spans().empty());
        CHECK(gw.metric("gateway_tracing_spans_exported_total") == 0);
        CHECK(gw.metric("gateway_tracing_spans_dropped_total") == 0);
    }
}

TEST_CASE("tracing: sampling_ratio 0.5 traces about half of the requests without a parent") {
    OtlpReceiver receiver;
    MockBackend mock;
    TracedGateway gw(with_tracing(receiver.url(), "  sampling_ratio: 0.5\n"), mock);
    HttpClient client = gw.client();
    constexpr int kRequests = 200;
    for (int i = 0; i < kRequests; ++i) REQUIRE(client.send("GET", kBlocks, api_key()).status == 200);
    // A sampled parent is traced whatever the ratio, and its spans come after the others'.
    REQUIRE(client.send("GET", kBlocks, api_key({{"traceparent", traceparent("01")}})).status == 200);
    REQUIRE(receiver.wait_for_trace(kTraceId, 2).size() == 2);
    int traced = 0;
    for (const auto& span : receiver.spans()) {
        if (span.kind == 2 && span.trace_id != kTraceId) ++traced;
    }
    // Binomial(200, 0.5): 60..140 is over 8 standard deviations (7.1) either side.
    CHECK(traced > 60);
    CHECK(traced < 140);
}

TEST_CASE("tracing: a collector answering 503 with Retry-After gets the batch again after it") {
    OtlpReceiverOptions failing;
    failing.fail_first = 1;
    failing.status = 503;
    failing.retry_after_s = 1;
    OtlpReceiver receiver(failing);
    MockBackend mock;
    TracedGateway gw(with_tracing(receiver.url(), "  sampling_ratio: 1\n"), mock);
    REQUIRE(gw.client().send("GET", kBlocks, api_key({{"x-request-id", "retried-export"}})).status == 200);
    const auto spans = receiver.wait_for_trace(gw.trace_of("retried-export"), 2, milliseconds(6000));
    INFO(describe(spans));
    REQUIRE(spans.size() == 2);
    CHECK(spans[0].post == 2);  // refused the first time, taken the second
    CHECK(spans[1].post == 2);
    const auto posts = receiver.posts();
    REQUIRE(posts.size() == 2);
    CHECK(posts[0].status == 503);
    CHECK(posts[0].spans == 2);
    CHECK(posts[1].status == 200);
    CHECK(posts[1].at_ms - posts[0].at_ms >= 900);  // Retry-After: 1
    REQUIRE(poll_until([&] { return gw.metric("gateway_tracing_spans_exported_total") == 2; },
                       Clock::now() + milliseconds(3000)));
    CHECK(gw.metric("gateway_tracing_spans_dropped_total") == 0);
    CHECK(gw.metric("gateway_tracing_export_failures_total") == 0);
}

TEST_CASE("tracing: without Retry-After the batch is tried again after 1 s, then 2 s") {
    OtlpReceiverOptions failing;
    failing.fail_first = 2;
    failing.status = 502;
    OtlpReceiver receiver(failing);
    MockBackend mock;
    TracedGateway gw(with_tracing(receiver.url(), "  sampling_ratio: 1\n"), mock);
    REQUIRE(gw.client().send("GET", kBlocks, api_key({{"x-request-id", "backoff"}})).status == 200);
    const auto spans = receiver.wait_for_trace(gw.trace_of("backoff"), 2, milliseconds(8000));
    REQUIRE(spans.size() == 2);
    const auto posts = receiver.posts();
    REQUIRE(posts.size() == 3);
    CHECK(posts[0].status == 502);
    CHECK(posts[1].status == 502);
    CHECK(posts[2].status == 200);
    CHECK(posts[1].at_ms - posts[0].at_ms >= 900);
    CHECK(posts[2].at_ms - posts[1].at_ms >= 1800);  // doubled
    REQUIRE(poll_until([&] { return gw.metric("gateway_tracing_spans_exported_total") == 2; },
                       Clock::now() + milliseconds(3000)));
}

TEST_CASE("tracing: a batch the collector refuses with 400 is dropped at once and counted") {
    OtlpReceiverOptions refusing;
    refusing.fail_first = 100;
    refusing.status = 400;
    OtlpReceiver receiver(refusing);
    MockBackend mock;
    TracedGateway gw(with_tracing(receiver.url(), "  sampling_ratio: 1\n"), mock);
    REQUIRE(gw.client().send("GET", kBlocks, api_key()).status == 200);
    REQUIRE(poll_until([&] { return gw.metric("gateway_tracing_export_failures_total") == 1; },
                       Clock::now() + milliseconds(3000)));
    CHECK(gw.metric("gateway_tracing_spans_dropped_total") == 2);
    CHECK(gw.metric("gateway_tracing_spans_exported_total") == 0);
    std::this_thread::sleep_for(milliseconds(1500));  // past the first retry's time: none comes
    const auto posts = receiver.posts();
    REQUIRE(posts.size() == 1);
    CHECK(posts[0].status == 400);
    CHECK(posts[0].problem.empty());  // the body itself was a valid OTLP request
}

TEST_CASE("tracing: a batch is given up after 5 tries, dropped and counted") {
    OtlpReceiverOptions failing;
    failing.fail_first = 100;
    failing.status = 503;
    failing.retry_after_s = 1;
    OtlpReceiver receiver(failing);
    MockBackend mock;
    TracedGateway gw(with_tracing(receiver.url(), "  sampling_ratio: 1\n"), mock);
    REQUIRE(gw.client().send("GET", kBlocks, api_key()).status == 200);
    REQUIRE(poll_until([&] { return gw.metric("gateway_tracing_export_failures_total") == 1; },
                       Clock::now() + milliseconds(9000)));
    CHECK(gw.metric("gateway_tracing_spans_dropped_total") == 2);
    CHECK(gw.metric("gateway_tracing_spans_exported_total") == 0);
    CHECK(receiver.posts().size() == 5);
}

TEST_CASE("tracing: a hanging or absent collector costs requests nothing, and a full queue drops spans") {
    MockBackend mock;
    OtlpReceiver healthy;
    OtlpReceiverOptions hanging_options;
    hanging_options.hang = true;
    OtlpReceiver hanging(hanging_options);
    ClosedPort absent;
    TracedGateway fine(with_tracing(healthy.url(), "  sampling_ratio: 1\n"), mock);
    TracedGateway stuck(with_tracing(hanging.url(), "  sampling_ratio: 1\n  max_queue_spans: 10\n"), mock);
    TracedGateway lost(with_tracing("http://127.0.0.1:" + std::to_string(absent.port()) + "/v1/traces",
                                    "  sampling_ratio: 1\n  max_queue_spans: 10\n"),
                       mock);
    HttpClient to_fine = fine.client();
    HttpClient to_stuck = stuck.client();
    HttpClient to_lost = lost.client();
    // Interleaved, so that all three see the same noise (two shared cores, parallel tests).
    std::vector<double> fine_ms, stuck_ms, lost_ms;
    const auto timed = [](HttpClient& client, std::vector<double>& samples) {
        const auto start = Clock::now();
        const auto response = client.send("GET", kBlocks, api_key());
        samples.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        return response.status;
    };
    for (int i = 0; i < 200; ++i) {
        REQUIRE(timed(to_fine, fine_ms) == 200);
        REQUIRE(timed(to_stuck, stuck_ms) == 200);
        REQUIRE(timed(to_lost, lost_ms) == 200);
    }
    const double fine_p99 = quantile(fine_ms, 0.99);
    const double stuck_p99 = quantile(stuck_ms, 0.99);
    const double lost_p99 = quantile(lost_ms, 0.99);
    INFO("p99 ms: healthy collector " << fine_p99 << ", hanging " << stuck_p99 << ", absent " << lost_p99
         << "; p50: " << quantile(fine_ms, 0.5) << ", " << quantile(stuck_ms, 0.5) << ", " << quantile(lost_ms, 0.5));
    // A request here takes well under a millisecond. Were the export on the request path, a
    // hanging collector would cost its 5 s timeout (and an absent one a connect) per request;
    // 20 ms is far below that and far above the scheduling noise of two shared cores.
    CHECK(stuck_p99 - fine_p99 < 20.0);
    CHECK(lost_p99 - fine_p99 < 20.0);

    // 400 spans for a queue of 10 whose batch is stuck: most are dropped.
    CHECK(stuck.metric("gateway_tracing_spans_dropped_total") > 0);
    CHECK(lost.metric("gateway_tracing_spans_dropped_total") > 0);
    CHECK(stuck.metric("gateway_tracing_spans_exported_total") == 0);
    CHECK(lost.metric("gateway_tracing_spans_exported_total") == 0);
    CHECK(fine.metric("gateway_tracing_spans_dropped_total") == 0);
    REQUIRE(poll_until([&] { return fine.metric("gateway_tracing_spans_exported_total") == 400; },
                       Clock::now() + milliseconds(4000)));
    // The first batch, still waiting for its answer (the gateway gives up after 5 s).
    REQUIRE(poll_until([&] { return !hanging.posts().empty(); }, Clock::now() + milliseconds(3000)));
    for (const auto& post : hanging.posts()) CHECK(post.status == 0);
}

TEST_CASE("tracing: SIGTERM sends the last requests' spans before the gateway exits") {
    OtlpReceiver receiver;
    MockBackend mock;
    TracedGateway gw(with_tracing(receiver.url(), "  sampling_ratio: 1\n"), mock, {"--drain-timeout-ms", "3000"});
    HttpClient client = gw.client();
    std::vector<std::string> traces;
    for (int i = 0; i < 3; ++i) {
        const std::string id = "last-" + std::to_string(i);
        REQUIRE(client.send("GET", kBlocks, api_key({{"x-request-id", id}})).status == 200);
        traces.push_back(gw.trace_of(id));
    }
    client.close();
    // At once: well within the exporter's 1 s batch interval, so the drain must send them.
    const auto signalled = Clock::now();
    REQUIRE(::kill(gw.gateway->process().pid(), SIGTERM) == 0);
    const auto code = gw.gateway->process().wait_for_exit(Clock::now() + milliseconds(6000));
    REQUIRE(code);
    CHECK(*code == 0);
    CHECK(elapsed_ms(signalled) < 3000);
    const auto spans = receiver.spans();  // no waiting: they arrived before the exit
    INFO(describe(spans));
    for (const auto& trace : traces) CHECK(spans_of_trace(spans, trace).size() == 2);
    CHECK(spans.size() == 6);
}

TEST_CASE("tracing: a hanging collector cannot hold the exit past the drain timeout") {
    OtlpReceiverOptions hanging_options;
    hanging_options.hang = true;
    OtlpReceiver hanging(hanging_options);
    MockBackend mock;
    TracedGateway gw(with_tracing(hanging.url(), "  sampling_ratio: 1\n"), mock, {"--drain-timeout-ms", "1000"});
    REQUIRE(gw.client().send("GET", kBlocks, api_key()).status == 200);
    // The exporter is inside its POST, waiting up to 5 s for an answer that never comes.
    REQUIRE(poll_until([&] { return hanging.posts().size() == 1; }, Clock::now() + milliseconds(3000)));
    REQUIRE(gw.client().send("GET", kBlocks, api_key()).status == 200);  // queued behind it
    const auto signalled = Clock::now();
    REQUIRE(::kill(gw.gateway->process().pid(), SIGTERM) == 0);
    const auto code = gw.gateway->process().wait_for_exit(Clock::now() + milliseconds(8000));
    REQUIRE(code);
    const auto took = elapsed_ms(signalled);
    INFO("exit " << *code << " after " << took << " ms");
    // The POST under way must give up at the drain's deadline, not at its own 5 s timeout: the
    // workers' drain and the exporter's share the 1 s drain timeout; 2 s of slack on top (the
    // workers alone take about 1 s to stop once they have pooled an upstream connection).
    CHECK(took < 1000 + 2000);
}

TEST_CASE("tracing: otlp_json's body for awkward spans passes the official OTLP definitions") {
    OtlpReceiver receiver;
    gateway::Span server;
    const std::string trace = "0af7651916cd43dd8448eb211c80319c";
    std::copy(trace.begin(), trace.end(), server.trace_id.begin());
    const std::string span = "b7ad6b7169203331";
    std::copy(span.begin(), span.end(), server.span_id.begin());
    const std::string parent = "00f067aa0ba902b7";
    std::copy(parent.begin(), parent.end(), server.parent_id.begin());
    server.has_parent = true;
    server.kind = gateway::Span::Kind::server;
    server.name = "GET /quote\"back\\slash\x01 caf\xc3\xa9 \xff";  // escapes, UTF-8, an invalid byte
    server.start_unix_ns = 1'795'473'601'123'456'789ULL;
    server.end_unix_ns = 1'795'473'601'223'456'789ULL;
    server.add("http.response.status_code", std::int64_t{503});
    server.add("big", std::int64_t{9'223'372'036'854'775'807});
    server.add("negative", std::int64_t{-42});
    server.add("server.address", "h\xe2\x82\xac\xf0\x9f\x98\x80st");
    server.add("empty", "");
    gateway::Span::Event& event = server.events.emplace_back();
    event.name = "gateway.refused";
    event.time_unix_ns = server.end_unix_ns;
    event.attributes.push_back({"gateway.check", "auth", 0, false});
    event.attributes.push_back({"gateway.error_code", {}, 40101, true});
    gateway::Span::Event& bare = server.events.emplace_back();
    bare.name = "no attributes";
    bare.time_unix_ns = server.start_unix_ns;
    server.error = true;
    server.status_message = "50301";

    gateway::Span client = server;
    client.kind = gateway::Span::Kind::client;
    client.parent_id = server.span_id;
    std::copy(parent.rbegin(), parent.rend(), client.span_id.begin());
    client.attributes.clear();
    client.events.clear();
    client.error = false;

    const std::string body = gateway::otlp_json("svc \"quoted\"", "1.2.3", {server, client});
    HttpClient poster(receiver.port());
    const auto answer = poster.send("POST", "/v1/traces", {{"Content-Type", "application/json"}}, body);
    INFO(body << "\n" << answer.describe());
    REQUIRE(answer.status == 200);

    const auto spans = receiver.spans();
    INFO(describe(spans));
    REQUIRE(spans.size() == 2);
    const ReceivedSpan& got = spans[0];
    CHECK(got.trace_id == trace);
    CHECK(got.span_id == span);
    CHECK(got.parent_span_id == parent);
    CHECK(got.kind == 2);
    CHECK(got.name == "GET /quote\"back\\slash\x01 caf\xc3\xa9 \xef\xbf\xbd");
    CHECK(got.start_unix_ns == server.start_unix_ns);
    CHECK(got.end_unix_ns == server.end_unix_ns);
    CHECK(got.attributes.integer("http.response.status_code") == 503);
    CHECK(got.attributes.kinds.at("big") == "intValue");
    CHECK(got.attributes.values.at("big") == "9223372036854775807");
    CHECK(got.attributes.integer("negative") == -42);
    CHECK(got.attributes.text("server.address") == "h\xe2\x82\xac\xf0\x9f\x98\x80st");
    CHECK(got.attributes.text("empty") == "");
    REQUIRE(got.events.size() == 2);
    CHECK(got.events[0].attributes.integer("gateway.error_code") == 40101);
    CHECK(got.events[1].attributes.values.empty());
    CHECK(got.status_code == 2);
    CHECK(got.status_message == "50301");
    CHECK(got.resource.at("service.name") == "svc \"quoted\"");
    CHECK(got.scope_name == "api-gateway");
    CHECK(got.scope_version == "1.2.3");
    CHECK(spans[1].kind == 3);
    CHECK(spans[1].parent_span_id == span);
    CHECK(spans[1].status_code == 0);
    CHECK(spans[1].attributes.values.empty());
}
