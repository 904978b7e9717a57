// Hardening 3: request paths. A segment that could mean two things to two parsers (an encoded
// '/', a control character, a dot segment) is refused wherever it is, never forwarded; every
// other path is decoded once, matched, and forwarded in one canonical spelling, so the gateway
// and the backend cannot disagree on the resource. The query is forwarded as received.

#include <catch2/catch.hpp>

#include "support/bodies.hpp"
#include "support/documented_routes.hpp"
#include "support/gateway_fixture.hpp"
#include "support/hardening.hpp"

using namespace test_support;
using Catch::Matchers::Contains;

namespace {

using std::chrono::milliseconds;

Headers echo_headers() { return api_key({{"x-mock-echo", "1"}}); }

struct BadPath {
    const char* what;
    std::string target;
    std::string segment;  // the offending segment as sent; detailMsg must name it
};

/// Codes a refused path may carry: the brief allows 40000 or 40001; the gateway's README
/// documents 40006 (Invalid request path) for exactly these.
bool is_path_refusal_code(int code) { return code == 40000 || code == 40001 || code == 40006; }

void check_refused_paths(const std::vector<BadPath>& cases) {
    GatewayFixture fixture;
    auto client = fixture.client(milliseconds(3000));
    for (const auto& c : cases) {
        INFO("case: " << c.what << "\ntarget: " << c.target);
        reset_mock_request_count(fixture.mock_port());
        const auto response = client.send("GET", c.target, echo_headers());
        INFO("response:\n" << response.describe());
        CHECK(response.status == 400);
        CHECK(response.header("Content-Type").value_or("") == "application/json");
        const auto error = parse_error_body(response.body);
        INFO("error body problem: " << error.problem);
        CHECK(error.valid);
        CHECK(error.status == "BAD_REQUEST");
        CHECK(is_path_refusal_code(error.code));
        if (c.segment == "." || c.segment == "..") {
            // A bare "." or ".." is in any sentence; it must appear quoted as the segment.
            CHECK_THAT(error.detail, Contains("\"" + c.segment + "\"") || Contains("'" + c.segment + "'"));
        } else {
            CHECK_THAT(error.detail, Contains(c.segment, Catch::CaseSensitive::No));
        }
        CHECK(mock_request_count(fixture.mock_port()) == 0);
    }
    const auto ok = client.send("GET", kBlocksTarget, api_key());
    INFO("follow-up:\n" << ok.describe());
    CHECK(ok.status == 200);
}

/// The target the mock received for `target` sent through the gateway.
std::string forwarded_target(HttpClient& client, const std::string& target) {
    const auto response = client.send("GET", target, echo_headers());
    INFO("target sent: " << target << "\nresponse:\n" << response.describe());
    REQUIRE(response.status == 200);
    const auto echo = parse_echo(response.body);
    REQUIRE(echo.valid);
    return echo.target;
}

}  // namespace

TEST_CASE("paths: an encoded '/' or an encoded control character in a parameter segment is refused with 400 naming it") {
    check_refused_paths({
        {"%2F", "/v2/orgs/tel%2Fco/subscriptions/1/blocks", "tel%2Fco"},
        {"%2f", "/v2/orgs/tel%2fco/subscriptions/1/blocks", "tel%2fco"},
        {"%00", "/v2/orgs/tel%00co/subscriptions/1/blocks", "tel%00co"},
        {"%0d%0a (header injection shape)", "/v2/orgs/tel%0d%0aX-Injected:%20yes/subscriptions/1/blocks",
         "tel%0d%0aX-Injected:%20yes"},
        {"%1b (ESC)", "/v2/orgs/tel%1bco/subscriptions/1/blocks", "tel%1bco"},
        {"%7f (DEL)", "/v2/orgs/tel%7fco/subscriptions/1/blocks", "tel%7fco"},
        {"%2F in an int64 parameter", "/v2/orgs/telco/subscriptions/1%2F2/blocks", "1%2F2"},
    });
}

TEST_CASE("paths: an encoded '/' or control character in a literal segment is refused with 400 naming it") {
    check_refused_paths({
        {"%2F inside a literal", "/v2/orgs%2Ftelco/subscriptions/1/blocks", "orgs%2Ftelco"},
        {"%00 after a literal", "/v2/orgs/telco/subscriptions/1/blocks%00", "blocks%00"},
        {"%0a in a literal", "/v2/or%0ags/telco/subscriptions/1/blocks", "or%0ags"},
    });
}

TEST_CASE("paths: dot segments in parameter positions are refused with 400, not resolved") {
    check_refused_paths({
        {"..", "/v2/orgs/../subscriptions/1/blocks", ".."},
        {".", "/v2/orgs/./subscriptions/1/blocks", "."},
        {"%2e", "/v2/orgs/%2e/subscriptions/1/blocks", "%2e"},
        {"%2E%2E", "/v2/orgs/%2E%2E/subscriptions/1/blocks", "%2E%2E"},
        {".%2e", "/v2/orgs/.%2e/subscriptions/1/blocks", ".%2e"},
        {"%2e. as the subscription id", "/v2/orgs/telco/subscriptions/%2e./blocks", "%2e."},
    });
}

TEST_CASE("paths: dot segments in literal positions are refused with 400, not resolved") {
    check_refused_paths({
        {".. before a literal", "/v2/orgs/telco/subscriptions/1/../blocks", ".."},
        {". between literals", "/v2/./orgs/telco/subscriptions/1/blocks", "."},
        {"%2E%2E after the last literal", "/v2/orgs/telco/subscriptions/1/blocks/%2E%2E", "%2E%2E"},
        {".%2e resolving to a documented path",
         "/v2/orgs/telco/subscriptions/214748364/blocks/x/.%2e", ".%2e"},
        {"%2e first", "/%2e/v2/orgs/telco/subscriptions/1/blocks", "%2e"},
    });
}

TEST_CASE("paths: the path is forwarded decoded once and canonically re-encoded") {
    GatewayFixture fixture;
    auto client = fixture.client(milliseconds(3000));
    SECTION("an escaped unreserved letter is forwarded plain: tel%63o -> telco") {
        CHECK(forwarded_target(client, "/v2/orgs/tel%63o/subscriptions/214748364/blocks") ==
              "/v2/orgs/telco/subscriptions/214748364/blocks");
    }
    SECTION("%7e -> ~ and %41 -> A (unreserved characters plain)") {
        CHECK(forwarded_target(client, "/v2/orgs/tel%7eco%41/subscriptions/214748364/blocks") ==
              "/v2/orgs/tel~coA/subscriptions/214748364/blocks");
    }
    SECTION("a space stays encoded: a%20b -> a%20b") {
        CHECK(forwarded_target(client, "/v2/orgs/a%20b/subscriptions/214748364/blocks") ==
              "/v2/orgs/a%20b/subscriptions/214748364/blocks");
    }
    SECTION("other escapes get upper-case hex: %3f -> %3F, %c3%a9 -> %C3%A9") {
        CHECK(forwarded_target(client, "/v2/orgs/a%3fb%c3%a9/subscriptions/214748364/blocks") ==
              "/v2/orgs/a%3Fb%C3%A9/subscriptions/214748364/blocks");
    }
    SECTION("decoded once only: tel%2563o is the value tel%63o, forwarded as tel%2563o") {
        CHECK(forwarded_target(client, "/v2/orgs/tel%2563o/subscriptions/214748364/blocks") ==
              "/v2/orgs/tel%2563o/subscriptions/214748364/blocks");
    }
    SECTION("literal segments are matched after decoding: /v2/%6Frgs/... is the blocks route") {
        CHECK(forwarded_target(client, "/v2/%6Frgs/telco/subscriptions/1/blocks") ==
              "/v2/orgs/telco/subscriptions/1/blocks");
    }
}

TEST_CASE("paths: a scalar query parameter twice is refused when the values differ, served when they agree, and the query is forwarded as received") {
    GatewayFixture fixture;
    auto client = fixture.client(milliseconds(3000));
    SECTION("reason=cancel&reason=unsubscribe: 400 code 40002, not forwarded") {
        reset_mock_request_count(fixture.mock_port());
        const auto response = client.send(
            "GET", "/v2/orgs/telco/penalties/214748364?reason=cancel&reason=unsubscribe", echo_headers());
        const auto error = EXPECT_ERROR(response, 400, 40002, "BAD_REQUEST");
        CHECK_THAT(error.detail, Contains("reason"));
        CHECK(mock_request_count(fixture.mock_port()) == 0);
    }
    SECTION("reason=cancel&reason=cancel: served, query forwarded unchanged") {
        const std::string target = "/v2/orgs/telco/penalties/214748364?reason=cancel&reason=cancel";
        CHECK(forwarded_target(client, target) == target);
    }
    SECTION("escapes in the query are not re-encoded: ?reason=c%61ncel") {
        const std::string target = "/v2/orgs/telco/penalties/214748364?reason=c%61ncel";
        CHECK(forwarded_target(client, target) == target);
    }
    SECTION("the path is canonicalised while the query is left alone") {
        CHECK(forwarded_target(client, "/v2/orgs/tel%63o/penalties/214748364?reason=c%61ncel") ==
              "/v2/orgs/telco/penalties/214748364?reason=c%61ncel");
    }
}
