// W3C Trace Context through the real gateway: what traceparent and tracestate the upstream gets
// (seen through the mock's x-mock-echo), and the trace_id / span_id of the access log's line.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "support/bodies.hpp"
#include "support/documented_routes.hpp"
#include "support/access_log_lines.hpp"
#include "support/gateway_fixture.hpp"
#include "support/hardening.hpp"
#include "support/http_client.hpp"

using namespace test_support;
using std::chrono::milliseconds;
namespace fs = std::filesystem;

namespace {

// The W3C spec's example.
constexpr const char* kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr const char* kParentId = "00f067aa0ba902b7";
const std::string kSampled = std::string("00-") + kTraceId + "-" + kParentId + "-01";
const std::string kUnsampled = std::string("00-") + kTraceId + "-" + kParentId + "-00";

/// A traceparent the gateway sent, split into its fields.
struct SentTraceparent {
    std::string version, trace_id, parent_id, flags;
};

bool is_lower_hex(const std::string& text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

/// The fields of `value`, which must be a version-00 traceparent of lower-case hex ids, neither
/// all zero.
SentTraceparent split_traceparent(const std::string& value) {
    INFO("traceparent the upstream got: '" << value << "'");
    REQUIRE(value.size() == 55);
    REQUIRE(value[2] == '-');
    REQUIRE(value[35] == '-');
    REQUIRE(value[52] == '-');
    SentTraceparent sent{value.substr(0, 2), value.substr(3, 32), value.substr(36, 16), value.substr(53, 2)};
    CHECK(sent.version == "00");
    CHECK(is_lower_hex(sent.trace_id));
    CHECK(is_lower_hex(sent.parent_id));
    CHECK(sent.trace_id != std::string(32, '0'));
    CHECK(sent.parent_id != std::string(16, '0'));
    CHECK((sent.flags == "00" || sent.flags == "01"));
    return sent;
}


/// What the log line says of the request's trace.
struct LoggedTrace {
    std::string trace_id, span_id;
};

LoggedTrace logged_trace(const fs::path& log, const std::string& request_id) {
    const auto line = wait_for_request(log, request_id);
    REQUIRE(line.HasMember("trace_id"));
    REQUIRE(line.HasMember("span_id"));
    return {json_text(line["trace_id"]), json_text(line["span_id"])};
}

GatewayOptions logging_to(const fs::path& path) {
    GatewayOptions options;
    options.extra_args = {"--access-log", path.string()};
    return options;
}

/// The documented GET with x-mock-echo, its request id and `more` headers.
Headers echo_request(const std::string& request_id, Headers more = {}) {
    more.emplace_back("x-mock-echo", "1");
    more.emplace_back("x-request-id", request_id);
    return api_key(std::move(more));
}

EchoedRequest echoed(const HttpResponse& response) {
    INFO(response.describe());
    REQUIRE(response.status == 200);
    auto echo = parse_echo(response.body);
    REQUIRE(echo.valid);
    return echo;
}

/// The one traceparent the upstream got, split; fails unless there is exactly one.
SentTraceparent upstream_traceparent(const EchoedRequest& echo) {
    REQUIRE(echo.header_count("traceparent") == 1);
    return split_traceparent(*echo.header("traceparent"));
}

bool echo_holds_value(const EchoedRequest& echo, const std::string& value) {
    return std::any_of(echo.headers.begin(), echo.headers.end(),
                       [&](const auto& header) { return header.second.find(value) != std::string::npos; });
}

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

}  // namespace

TEST_CASE("trace context: a valid traceparent is continued with the gateway's span as the parent") {
    TempDir dir;
    const fs::path log = dir.path() / "access.log";
    GatewayFixture fixture(logging_to(log));
    auto client = fixture.client();

    SECTION("sampled, with tracestate in two header lines") {
        const auto echo = echoed(client.send("GET", kBlocksTarget,
                                             echo_request("tc-continued", {{"traceparent", kSampled},
                                                                           {"tracestate", "rojo=00f067aa0ba902b7"},
                                                                           {"tracestate", "congo=t61rcWkgMzE"}})));
        const auto sent = upstream_traceparent(echo);
        CHECK(sent.trace_id == kTraceId);
        CHECK(sent.parent_id != kParentId);
        CHECK(sent.flags == "01");
        CHECK(echo.header_count("tracestate") == 1);
        CHECK(echo.header("tracestate") == "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");

        const auto logged = logged_trace(log, "tc-continued");
        CHECK(logged.trace_id == kTraceId);
        CHECK(logged.span_id == sent.parent_id);
    }
    SECTION("not sampled: the caller's flag 00 goes on") {
        const auto echo = echoed(client.send("GET", kBlocksTarget,
                                             echo_request("tc-unsampled", {{"traceparent", kUnsampled}})));
        const auto sent = upstream_traceparent(echo);
        CHECK(sent.trace_id == kTraceId);
        CHECK(sent.parent_id != kParentId);
        CHECK(sent.flags == "00");
        CHECK(echo.header_count("tracestate") == 0);
        CHECK(logged_trace(log, "tc-unsampled").span_id == sent.parent_id);
    }
    SECTION("the header name in any case, tracestate members invalid or duplicated dropped") {
        const auto echo = echoed(client.send(
            "GET", kBlocksTarget,
            echo_request("tc-case", {{"TraceParent", kSampled},
                                     {"TRACESTATE", "congo=t61rcWkgMzE,,Bad=1, rojo=00f067aa0ba902b7 "},
                                     {"tracestate", "congo=again"}})));
        const auto sent = upstream_traceparent(echo);
        CHECK(sent.trace_id == kTraceId);
        CHECK(echo.header_count("tracestate") == 1);
        CHECK(echo.header("tracestate") == "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
        CHECK_FALSE(echo_holds_value(echo, "Bad=1"));
        CHECK(logged_trace(log, "tc-case").trace_id == kTraceId);
    }
    SECTION("a later version's traceparent continues, sent on as version 00") {
        const std::string future = std::string("01-") + kTraceId + "-" + kParentId + "-01-what-the-future-will-be-like";
        const auto echo = echoed(client.send("GET", kBlocksTarget,
                                             echo_request("tc-future", {{"traceparent", future},
                                                                        {"tracestate", "congo=t61rcWkgMzE"}})));
        const auto sent = upstream_traceparent(echo);
        CHECK(sent.version == "00");
        CHECK(sent.trace_id == kTraceId);
        CHECK(sent.parent_id != kParentId);
        CHECK(sent.flags == "01");
        CHECK(echo.header("tracestate") == "congo=t61rcWkgMzE");
        CHECK_FALSE(echo_holds_value(echo, "what-the-future"));
        CHECK(logged_trace(log, "tc-future").span_id == sent.parent_id);
    }
}

TEST_CASE("trace context: an invalid traceparent, or two, starts a new trace and drops tracestate") {
    TempDir dir;
    const fs::path log = dir.path() / "access.log";
    GatewayFixture fixture(logging_to(log));
    auto client = fixture.client();

    struct Case {
        std::string name;
        std::vector<std::string> traceparents;
    };
    const std::vector<Case> cases = {
        {"upper-case-trace-id", {"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"}},
        {"upper-case-parent-id", {"00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01"}},
        {"all-zero-trace-id", {"00-00000000000000000000000000000000-00f067aa0ba902b7-01"}},
        {"all-zero-parent-id", {"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"}},
        {"version-ff", {"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}},
        {"too-short", {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"}},
        {"too-long", {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-010"}},
        {"version-00-extra", {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"}},
        {"two-valid", {kSampled, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}},
        {"two-equal", {kSampled, kSampled}},
    };
    for (const auto& each : cases) {
        DYNAMIC_SECTION(each.name) {
            const std::string request_id = "tc-bad-" + each.name;
            Headers headers;
            for (const auto& value : each.traceparents) headers.emplace_back("traceparent", value);
            headers.emplace_back("tracestate", "congo=t61rcWkgMzE");
            const auto echo = echoed(client.send("GET", kBlocksTarget, echo_request(request_id, headers)));
            const auto sent = upstream_traceparent(echo);
            CHECK(sent.trace_id != kTraceId);
            CHECK(sent.trace_id != "0af7651916cd43dd8448eb211c80319c");
            CHECK(sent.flags == "00");
            for (const auto& value : each.traceparents) {
                INFO(value);
                CHECK_FALSE(echo_holds_value(echo, value));
                CHECK(lower(*echo.header("traceparent")).find(lower(value).substr(3, 32)) == std::string::npos);
            }
            CHECK(echo.header_count("tracestate") == 0);
            CHECK_FALSE(echo_holds_value(echo, "congo"));

            const auto logged = logged_trace(log, request_id);
            CHECK(logged.trace_id == sent.trace_id);
            CHECK(logged.span_id == sent.parent_id);
        }
    }
}

TEST_CASE("trace context: without a traceparent the gateway starts a trace, not sampled, and drops a lone tracestate") {
    TempDir dir;
    const fs::path log = dir.path() / "access.log";
    GatewayFixture fixture(logging_to(log));
    auto client = fixture.client();

    const auto echo = echoed(client.send("GET", kBlocksTarget, echo_request("tc-none")));
    const auto sent = upstream_traceparent(echo);
    CHECK(sent.flags == "00");
    CHECK(echo.header_count("tracestate") == 0);
    const auto logged = logged_trace(log, "tc-none");
    CHECK(logged.trace_id == sent.trace_id);
    CHECK(logged.span_id == sent.parent_id);

    const auto lone = echoed(client.send("GET", kBlocksTarget,
                                         echo_request("tc-lone-state", {{"tracestate", "congo=t61rcWkgMzE"}})));
    const auto lone_sent = upstream_traceparent(lone);
    CHECK(lone_sent.flags == "00");
    CHECK(lone.header_count("tracestate") == 0);
    CHECK(logged_trace(log, "tc-lone-state").trace_id == lone_sent.trace_id);

    // Other upstream: the same for penalties, a route with a query string.
    const auto penalties = echoed(client.send("GET", kPenaltiesTarget, echo_request("tc-penalties")));
    const auto penalties_sent = upstream_traceparent(penalties);
    CHECK(logged_trace(log, "tc-penalties").span_id == penalties_sent.parent_id);
}

TEST_CASE("trace context: every request gets a span of its own, new traces an id of their own") {
    TempDir dir;
    const fs::path log = dir.path() / "access.log";
    GatewayFixture fixture(logging_to(log));
    auto client = fixture.client();

    // On one keep-alive connection, the same caller's span twice: one trace, two spans.
    const auto first = upstream_traceparent(
        echoed(client.send("GET", kBlocksTarget, echo_request("tc-span-1", {{"traceparent", kSampled}}))));
    const auto second = upstream_traceparent(
        echoed(client.send("GET", kBlocksTarget, echo_request("tc-span-2", {{"traceparent", kSampled}}))));
    CHECK(client.connections_opened() == 1);
    CHECK(first.trace_id == kTraceId);
    CHECK(second.trace_id == kTraceId);
    CHECK(first.parent_id != second.parent_id);
    const auto logged_first = logged_trace(log, "tc-span-1");
    const auto logged_second = logged_trace(log, "tc-span-2");
    CHECK(logged_first.span_id == first.parent_id);
    CHECK(logged_second.span_id == second.parent_id);
    CHECK(logged_first.span_id != logged_second.span_id);

    // Without a traceparent: two traces.
    const auto third = upstream_traceparent(echoed(client.send("GET", kBlocksTarget, echo_request("tc-span-3"))));
    const auto fourth = upstream_traceparent(echoed(client.send("GET", kBlocksTarget, echo_request("tc-span-4"))));
    CHECK(third.trace_id != fourth.trace_id);
    CHECK(third.parent_id != fourth.parent_id);
    CHECK(third.trace_id != kTraceId);
}

TEST_CASE("trace context: a refusal by the gateway still logs the request's trace") {
    TempDir dir;
    const fs::path log = dir.path() / "access.log";
    GatewayFixture fixture(logging_to(log));
    auto client = fixture.client();
    // No role: refused (401/403) before any upstream.
    const auto refused = client.send("GET", kBlocksTarget, {{"x-request-id", "tc-refused"}, {"traceparent", kSampled}});
    CHECK(refused.status >= 400);
    CHECK(refused.status < 500);
    const auto logged = logged_trace(log, "tc-refused");
    CHECK(logged.trace_id == kTraceId);
    CHECK(logged.span_id.size() == 16);
    CHECK(is_lower_hex(logged.span_id));
    CHECK(logged.span_id != kParentId);
}

namespace {

/// The value of one series in /metrics (0 when it is absent).
double metric(std::uint16_t admin_port, const std::string& series) {
    const std::string text = HttpClient(admin_port).send("GET", "/metrics").body;
    const auto at = text.find("\n" + series + " ");
    if (at == std::string::npos) return 0;
    return std::stod(text.substr(at + series.size() + 2));
}

/// A gateway whose selfCareSocket upstream is `first` then `second` (round robin), penalties
/// `second`, with an access log and an admin port.
struct TwoEndpoints {
    TwoEndpoints(const std::string& first, const std::string& second) {
        GatewayOptions options;
        options.endpoints_from_config = true;
        options.extra_args = {"--upstream", "selfCareSocket=" + first, "--upstream", "selfCareSocket=" + second,
                              "--upstream", "penalties=" + second,     "--access-log", log.string(),
                              "--admin",    "127.0.0.1:0"};
        gateway = std::make_unique<Gateway>(options, second);
        admin_port = admin_port_of(*gateway);
    }
    TempDir dir;
    fs::path log = dir.path() / "access.log";
    std::unique_ptr<Gateway> gateway;
    std::uint16_t admin_port = 0;
};

/// Four GETs with a valid traceparent and a tracestate: whichever endpoint each went to first,
/// the one that answered got exactly one traceparent of the caller's trace, with the request's
/// span as its parent, and one tracestate.
void check_four_requests(TwoEndpoints& setup, const std::string& prefix) {
    HttpClient client(setup.gateway->port());
    for (int i = 0; i < 4; ++i) {
        const std::string request_id = prefix + std::to_string(i);
        INFO(request_id);
        const auto echo = echoed(client.send(
            "GET", kBlocksTarget,
            echo_request(request_id, {{"traceparent", kSampled}, {"tracestate", "congo=t61rcWkgMzE"}})));
        const auto sent = upstream_traceparent(echo);
        CHECK(sent.trace_id == kTraceId);
        CHECK(sent.flags == "01");
        CHECK(echo.header_count("tracestate") == 1);
        CHECK(echo.header("tracestate") == "congo=t61rcWkgMzE");
        CHECK(logged_trace(setup.log, request_id).span_id == sent.parent_id);
    }
}

}  // namespace

TEST_CASE("trace context: a request retried after a refused connection carries exactly one traceparent") {
    ClosedPort closed;
    MockBackend live;
    TwoEndpoints setup("127.0.0.1:" + std::to_string(closed.port()), live.endpoint());
    check_four_requests(setup, "tc-refused-retry-");
    // Round robin sent two of them to the closed port first: those were retried on the live one.
    CHECK(metric(setup.admin_port, "gateway_upstream_errors_total{upstream=\"selfCareSocket\",kind=\"refused\"}") >= 1);
    CHECK(mock_request_count(live.port()) == 4);
}

TEST_CASE("trace context: a GET sent again after the first endpoint closed without answering carries exactly one traceparent") {
    MockBackend closing;
    MockBackend live;
    {
        HttpClient control(closing.port());
        const auto answer =
            control.send("PUT", "/__mock/fault", {{"content-type", "application/json"}}, R"({"mode":"close"})");
        INFO(answer.describe());
        REQUIRE(answer.status == 200);
    }
    TwoEndpoints setup(closing.endpoint(), live.endpoint());
    check_four_requests(setup, "tc-closed-retry-");
    // Two reached the closing endpoint (and were sent again to the live one).
    CHECK(mock_request_count(closing.port()) == 2);
    CHECK(mock_request_count(live.port()) == 4);
}
