// 7. Upstream failures, provoked with the mock's x-mock-fault / x-mock-status hooks: error
// answers are normalised into ErrorMessage (or relayed when they already are one), transport
// failures become 502/504, and the gateway keeps serving afterwards.

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "support/bodies.hpp"
#include "support/documented_routes.hpp"
#include "support/gateway_fixture.hpp"
#include "support/hardening.hpp"

using namespace test_support;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

Headers fault(const char* mode, Headers more = {}) {
    more.emplace_back("x-mock-fault", mode);
    return api_key(std::move(more));
}

/// After a fault, the same client connection still gets normal answers from both upstreams.
void check_still_serving(HttpClient& client) {
    const auto blocks = client.send("GET", kBlocksTarget, api_key());
    INFO("follow-up request:\n" << blocks.describe());
    CHECK(blocks.status == 200);
    const auto penalties = client.send("GET", kPenaltiesTarget, api_key());
    INFO("follow-up request:\n" << penalties.describe());
    CHECK(penalties.status == 200);
    const auto patch = client.send("PATCH", kPatchTarget,
                                   api_key({{"Content-Type", "application/json"}}), R"({"active":true})");
    INFO("follow-up request:\n" << patch.describe());
    CHECK(patch.status == 201);
}

}  // namespace

TEST_CASE("an upstream HTML 500 becomes a 500 ErrorMessage naming the upstream and its status, never quoting its page") {
    GatewayFixture fixture;
    auto client = fixture.client();
    SECTION("selfCareSocket") {
        const auto response = client.send("GET", kBlocksTarget, fault("html-500"));
        const auto error = EXPECT_ERROR(response, 500, 50090, "INTERNAL_SERVER_ERROR");
        CHECK(error.detail ==
              "upstream selfCareSocket answered 500 Internal Server Error; its body is not passed "
              "on (the gateway's access log keeps it under this request's id)");
        CHECK_THAT(response.body, !Contains("<html>") && !Contains("text/html"));
    }
    SECTION("penalties") {
        const auto response = client.send("GET", kPenaltiesTarget, fault("html-500"));
        const auto error = EXPECT_ERROR(response, 500, 50090, "INTERNAL_SERVER_ERROR");
        CHECK_THAT(error.detail, StartsWith("upstream penalties answered 500"));
        CHECK_THAT(response.body, !Contains("<html>") && !Contains("selfCareSocket"));
    }
    check_still_serving(client);
}

TEST_CASE("an upstream text/plain 404 becomes a 404 ErrorMessage without its text") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("GET", kBlocksTarget, fault("text-404"));
    const auto error = EXPECT_ERROR(response, 404, 40490, "NOT_FOUND");
    CHECK_THAT(error.detail, StartsWith("upstream selfCareSocket answered 404 Not Found;"));
    CHECK_THAT(error.detail, !Contains("text/plain") && !Contains("\"Not Found\""));
    check_still_serving(client);
}

TEST_CASE("an upstream JSON 409 that is not an ErrorMessage becomes a 409 ErrorMessage without its JSON") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("DELETE", "/v2/orgs/telco/penalties/1", fault("json-409"));
    const auto error = EXPECT_ERROR(response, 409, 40990, "CONFLICT");
    CHECK_THAT(error.detail, StartsWith("upstream penalties answered 409 Conflict;"));
    CHECK_THAT(response.body, !Contains("already blocked"));
    check_still_serving(client);
}

TEST_CASE("expose_error_body: true on an upstream quotes its error bodies, for that upstream only") {
    TempDir dir;
    GatewayOptions options;
    options.config_path = dir.write(
        "routes.yaml", insert_after(project_routes_text(), "  selfCareSocket:\n",
                                    "    expose_error_body: true\n"));
    GatewayFixture fixture(options);
    auto client = fixture.client();
    const auto html = client.send("GET", kBlocksTarget, fault("html-500"));
    const auto error = EXPECT_ERROR(html, 500, 50090, "INTERNAL_SERVER_ERROR");
    CHECK_THAT(error.detail, Contains("selfCareSocket") && Contains("text/html") &&
                                 Contains("\"<html><body><h1>500 Internal Server Error"));
    const auto text = client.send("GET", kBlocksTarget, fault("text-404"));
    CHECK_THAT(EXPECT_ERROR(text, 404, 40490, "NOT_FOUND").detail,
               Contains("text/plain") && Contains("\"Not Found\""));
    const auto other = client.send("GET", kPenaltiesTarget, fault("html-500"));
    CHECK_THAT(EXPECT_ERROR(other, 500, 50090, "INTERNAL_SERVER_ERROR").detail, !Contains("<html>"));
    check_still_serving(client);
}

TEST_CASE("an upstream ErrorMessage 404 is passed through byte for byte") {
    GatewayFixture fixture;
    auto client = fixture.client();
    auto mock = fixture.mock_client();
    const auto direct = mock.send("GET", kBlocksTarget, fault("error-message-404"));
    const auto response = client.send("GET", kBlocksTarget, fault("error-message-404"));
    INFO(response.describe());
    REQUIRE(direct.status == 404);
    CHECK(response.status == 404);
    CHECK(response.body == direct.body);
    CHECK(response.header("Content-Type") == "application/json");
    const auto error = parse_error_body(response.body);
    CHECK(error.code == 404);
    CHECK(error.detail == "subscription 214748364 does not exist");
    check_still_serving(client);
}

TEST_CASE("an upstream empty 502 becomes a 502 ErrorMessage saying the body was empty") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("GET", kPenaltiesTarget, fault("empty-502"));
    const auto error = EXPECT_ERROR(response, 502, 50290, "BAD_GATEWAY");
    CHECK_THAT(error.detail, Contains("penalties") && Contains("502") && Contains("empty body"));
    check_still_serving(client);
}

TEST_CASE("an upstream empty 503 becomes a 503 ErrorMessage") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("GET", kPenaltiesTarget, fault("empty-503"));
    EXPECT_ERROR(response, 503, 50390, "SERVICE_UNAVAILABLE");
    check_still_serving(client);
}

TEST_CASE("x-mock-status: 202 on a documented route comes back as 202 with the body unchanged") {
    GatewayFixture fixture;
    auto client = fixture.client();
    auto mock = fixture.mock_client();
    const Headers headers = api_key({{"x-mock-status", "202"}});
    const auto direct = mock.send("GET", kPenaltiesTarget, headers);
    const auto response = client.send("GET", kPenaltiesTarget, headers);
    INFO(response.describe());
    REQUIRE(direct.status == 202);
    CHECK(response.status == 202);
    CHECK(response.body == direct.body);
    CHECK(response.header("Content-Type") == "application/json");
}

TEST_CASE("an upstream 500 carrying the route's normal JSON is normalised to a 500 ErrorMessage") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("GET", kBlocksTarget, api_key({{"x-mock-status", "500"}}));
    const auto error = EXPECT_ERROR(response, 500, 50090, "INTERNAL_SERVER_ERROR");
    CHECK_THAT(error.detail, StartsWith("upstream selfCareSocket answered 500 Internal Server Error;"));
    CHECK_THAT(response.body, !Contains("subscription_id"));
}

TEST_CASE("an upstream 204 is relayed as 204 without a body") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response =
        client.send("DELETE", "/v2/orgs/telco/penalties/1", api_key({{"x-mock-status", "204"}}));
    INFO(response.describe());
    CHECK(response.status == 204);
    CHECK(response.body.empty());
    check_still_serving(client);
}

TEST_CASE("an upstream 2xx with a non-JSON or huge body is relayed as is") {
    GatewayFixture fixture;
    auto client = fixture.client();
    SECTION("chunked delivery is re-framed with Content-Length and the same bytes") {
        auto mock = fixture.mock_client();
        const auto direct = mock.send("GET", kPenaltiesTarget, api_key());
        const auto response = client.send("GET", kPenaltiesTarget, fault("chunked"));
        INFO(response.describe());
        CHECK(response.status == 200);
        CHECK(response.body == direct.body);
        CHECK(response.header_count("Transfer-Encoding") == 0);
        CHECK(response.header("Content-Length") == std::to_string(direct.body.size()));
    }
    SECTION("a 3 MiB body") {
        const auto response = client.send("GET", kPenaltiesTarget, fault("big"));
        CHECK(response.status == 200);
        CHECK(response.body.size() >= 3u * 1024u * 1024u);
        CHECK(is_json(response.body));
    }
}

TEST_CASE("an upstream that closes without answering gives 502 code 50202") {
    GatewayFixture fixture;
    auto client = fixture.client();
    SECTION("GET") {
        const auto response = client.send("GET", kBlocksTarget, fault("close"));
        const auto error = EXPECT_ERROR(response, 502, 50202, "BAD_GATEWAY");
        CHECK_THAT(error.detail, Contains("selfCareSocket") && Contains("closed the connection"));
    }
    SECTION("PATCH") {
        const auto response = client.send("PATCH", kPatchTarget,
                                          fault("close", {{"Content-Type", "application/json"}}),
                                          R"({"active":true})");
        EXPECT_ERROR(response, 502, 50202, "BAD_GATEWAY");
    }
    check_still_serving(client);
}

TEST_CASE("an upstream that answers garbage gives 502 code 50203") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("GET", kPenaltiesTarget, fault("garbage"));
    const auto error = EXPECT_ERROR(response, 502, 50203, "BAD_GATEWAY");
    CHECK_THAT(error.detail, Contains("penalties") && Contains("invalid HTTP response"));
    check_still_serving(client);
}

TEST_CASE("an upstream that sends half its body gives 502, never a 200 with a short body") {
    GatewayFixture fixture;
    auto client = fixture.client();
    for (const char* target : {kBlocksTarget, kPenaltiesTarget}) {
        INFO(target);
        const auto response = client.send("GET", target, fault("half-body"));
        const auto error = EXPECT_ERROR(response, 502, 50202, "BAD_GATEWAY");
        CHECK_THAT(error.detail, Contains("in the middle of its response"));
    }
    check_still_serving(client);
}

TEST_CASE("an upstream that hangs gives 504 code 50401 after --upstream-timeout-ms 300") {
    GatewayOptions options;
    options.upstream_timeout_ms = 300;
    GatewayFixture fixture(options);
    auto client = fixture.client();
    const auto started = Clock::now();
    const auto response = client.send("GET", kBlocksTarget, fault("hang"));
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    const auto error = EXPECT_ERROR(response, 504, 50401, "GATEWAY_TIMEOUT");
    CHECK_THAT(error.detail, Contains("selfCareSocket") && Contains("300 ms"));
    CHECK(elapsed >= 250);
    CHECK(elapsed < 1000);
    check_still_serving(client);
}

TEST_CASE("a slow but steady upstream within the timeout is not cut off") {
    GatewayOptions options;
    options.upstream_timeout_ms = 2000;
    GatewayFixture fixture(options);
    auto client = fixture.client();
    const auto response = client.send("GET", kBlocksTarget, fault("delay-100"));
    CHECK(response.status == 200);
}

TEST_CASE("an upstream that is not running gives 502 code 50201") {
    ClosedPort closed;
    GatewayOptions options;
    options.self_care_endpoint = "127.0.0.1:" + std::to_string(closed.port());
    GatewayFixture fixture(options);
    auto client = fixture.client();
    for (int i = 0; i < 3; ++i) {
        const auto response = client.send("GET", kBlocksTarget, api_key());
        const auto error = EXPECT_ERROR(response, 502, 50201, "BAD_GATEWAY");
        // The upstream by name, never by address: the endpoint is in the access log only.
        CHECK_THAT(error.detail, Contains("selfCareSocket"));
        CHECK_THAT(error.detail, !Contains(std::to_string(closed.port())) && !Contains("127.0.0.1"));
    }
    // The other upstream is unaffected.
    const auto penalties = client.send("GET", kPenaltiesTarget, api_key());
    CHECK(penalties.status == 200);
}

TEST_CASE("an unknown x-mock-fault is the mock's own ErrorMessage 400, relayed unchanged") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("GET", kBlocksTarget, fault("no-such-mode"));
    INFO(response.describe());
    CHECK(response.status == 400);
    const auto error = parse_error_body(response.body);
    CHECK(error.valid);
    CHECK(error.code == 400);
    CHECK_THAT(error.detail, Contains("no-such-mode"));
}

TEST_CASE("an upstream answer over max_response_bytes gives 502 code 50203, not a cut body") {
    std::ifstream in(project_routes_yaml());
    std::stringstream text;
    text << in.rdbuf();
    std::string config = text.str();
    const std::string anchor = "  penalties:\n    endpoints: [127.0.0.1:9002]\n";
    const auto at = config.find(anchor);
    REQUIRE(at != std::string::npos);
    config.insert(at + anchor.size(), "    max_response_bytes: 1048576\n");
    TempDir dir;
    GatewayOptions options;
    options.config_path = dir.write("routes.yaml", config);
    GatewayFixture fixture(options);
    auto client = fixture.client();
    const auto response = client.send("GET", kPenaltiesTarget, fault("big"));
    const auto error = EXPECT_ERROR(response, 502, 50203, "BAD_GATEWAY");
    CHECK_THAT(error.detail, Contains("penalties") && Contains("1048576"));
    check_still_serving(client);
}

TEST_CASE("a client that disconnects while its request waits on the upstream does not disturb the gateway") {
    GatewayOptions options;
    options.upstream_timeout_ms = 500;
    GatewayFixture fixture(options);
    for (int i = 0; i < 5; ++i) {
        RawConnection connection(fixture.port());
        REQUIRE(connection.write(std::string("GET ") + kBlocksTarget +
                                     " HTTP/1.1\r\nHost: g\r\nx-auth-roles: API_KEY\r\n"
                                     "x-mock-fault: hang\r\n\r\n",
                                 deadline_in(std::chrono::milliseconds(1000))));
    }  // each connection closes here, its request still in flight
    auto client = fixture.client();
    check_still_serving(client);
    // And once the abandoned requests have timed out upstream, still.
    const auto late = client.send("GET", kBlocksTarget, fault("delay-600"));
    CHECK(late.status == 504);
    check_still_serving(client);
    CHECK(fixture.gateway().process().running());
}
