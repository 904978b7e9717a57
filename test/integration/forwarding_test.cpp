// 6. What the upstream receives (seen through the mock's x-mock-echo), and the request id.

#include <catch2/catch.hpp>

#include "support/bodies.hpp"
#include "support/documented_routes.hpp"
#include "support/gateway_fixture.hpp"
#include "support/hardening.hpp"

using namespace test_support;
using Catch::Matchers::Contains;

namespace {

Headers echo_headers(Headers more = {}) {
    more.emplace_back("x-mock-echo", "1");
    return api_key(std::move(more));
}

EchoedRequest echoed(const HttpResponse& response) {
    INFO(response.describe());
    REQUIRE(response.status == 200);
    auto echo = parse_echo(response.body);
    REQUIRE(echo.valid);
    return echo;
}

}  // namespace

TEST_CASE("the upstream receives the method, target and body bytes exactly as sent") {
    GatewayFixture fixture;
    auto client = fixture.client();
    SECTION("PATCH with a body in unusual but valid formatting") {
        const std::string body = "{ \"reason\" :\"Lo ha perdido \\u00e9 \xc3\xa9\",\n\t\"active\":false }";
        const auto echo = echoed(client.send(
            "PATCH", kPatchTarget, echo_headers({{"Content-Type", "application/json"}}), body));
        CHECK(echo.method == "PATCH");
        CHECK(echo.target == kPatchTarget);
        CHECK(echo.body == body);
        CHECK(echo.header("Content-Length") == std::to_string(body.size()));
        CHECK(echo.header("Content-Type") == "application/json");
    }
    SECTION("GET with a query string: the path canonical, the query untouched") {
        const std::string target = "/v2/orgs/tel%63o/penalties/214748364/subscriptions/214748364?reason=mobi%6Ce";
        const auto echo = echoed(client.send("GET", target, echo_headers()));
        CHECK(echo.method == "GET");
        CHECK(echo.target ==
              "/v2/orgs/telco/penalties/214748364/subscriptions/214748364?reason=mobi%6Ce");
        CHECK(echo.body.empty());
    }
    SECTION("DELETE") {
        const auto echo = echoed(client.send("DELETE", "/v2/orgs/telco/penalties/7", echo_headers()));
        CHECK(echo.method == "DELETE");
        CHECK(echo.target == "/v2/orgs/telco/penalties/7");
    }
}

TEST_CASE("hop-by-hop headers are not forwarded: Connection, what it names, Keep-Alive, TE, Upgrade, Proxy-*") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const Headers headers = echo_headers({{"Connection", "keep-alive, X-Foo"},
                                          {"X-Foo", "1"},
                                          {"Keep-Alive", "timeout=5"},
                                          {"TE", "trailers"},
                                          {"Upgrade", "websocket"},
                                          {"Proxy-Authorization", "Basic dXNlcjpwYXNz"},
                                          {"Proxy-Foo", "bar"},
                                          {"X-End-To-End", "kept"},
                                          {"Accept", "application/json"}});
    // Control: sent straight to the mock, every one of them arrives.
    auto mock = fixture.mock_client();
    const auto direct = echoed(mock.send("GET", kBlocksTarget, headers));
    const auto echo = echoed(client.send("GET", kBlocksTarget, headers));
    for (const char* name : {"Connection", "X-Foo", "Keep-Alive", "TE", "Upgrade",
                             "Proxy-Authorization", "Proxy-Foo"}) {
        INFO(name);
        CHECK(direct.header_count(name) == 1);
        CHECK(echo.header_count(name) == 0);
    }
    CHECK(echo.header("X-End-To-End") == "kept");
    CHECK(echo.header("Accept") == "application/json");
}

TEST_CASE("headers named by any of several Connection lines are not forwarded") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto echo = echoed(client.send("GET", kBlocksTarget,
                                         echo_headers({{"Connection", "X-Foo"},
                                                       {"X-Foo", "1"},
                                                       {"X-Kept", "yes"},
                                                       {"Connection", "X-Bar"},
                                                       {"X-Bar", "2"}})));
    CHECK(echo.header_count("Connection") == 0);
    CHECK(echo.header_count("X-Foo") == 0);
    CHECK(echo.header_count("X-Bar") == 0);
    CHECK(echo.header("X-Kept") == "yes");
}

TEST_CASE("the client's x-auth-roles and other end-to-end headers are forwarded") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto echo = echoed(client.send(
        "GET", kBlocksTarget,
        {{"x-auth-roles", "OTHER, API_KEY"}, {"x-mock-echo", "1"}, {"Authorization", "Bearer abc"}}));
    CHECK(echo.header("x-auth-roles") == "OTHER, API_KEY");
    CHECK(echo.header("Authorization") == "Bearer abc");
}

TEST_CASE("X-Forwarded-For gets the client address appended") {
    GatewayFixture fixture;
    auto client = fixture.client();
    SECTION("to an existing list") {
        const auto echo =
            echoed(client.send("GET", kBlocksTarget, echo_headers({{"X-Forwarded-For", "10.0.0.1"}})));
        CHECK(echo.header_count("X-Forwarded-For") == 1);
        CHECK(echo.header("X-Forwarded-For") == "10.0.0.1, 127.0.0.1");
    }
    SECTION("to two header lines, joined in order") {
        const auto echo = echoed(client.send(
            "GET", kBlocksTarget,
            echo_headers({{"X-Forwarded-For", "10.0.0.1"}, {"X-Forwarded-For", "10.0.0.2"}})));
        CHECK(echo.header_count("X-Forwarded-For") == 1);
        CHECK(echo.header("X-Forwarded-For") == "10.0.0.1, 10.0.0.2, 127.0.0.1");
    }
    SECTION("to two header lines with another header between them, joined in order") {
        const auto echo = echoed(client.send("GET", kBlocksTarget,
                                             echo_headers({{"X-Forwarded-For", "10.0.0.1"},
                                                           {"X-Other", "y"},
                                                           {"X-Forwarded-For", "10.0.0.2"}})));
        CHECK(echo.header_count("X-Forwarded-For") == 1);
        CHECK(echo.header("X-Forwarded-For") == "10.0.0.1, 10.0.0.2, 127.0.0.1");
    }
    SECTION("as a new header when the client sent none") {
        const auto echo = echoed(client.send("GET", kBlocksTarget, echo_headers()));
        CHECK(echo.header("X-Forwarded-For") == "127.0.0.1");
    }
}

TEST_CASE("a missing X-Request-Id is generated as a UUID v4 and is the same upstream and in the response") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("GET", kBlocksTarget, echo_headers());
    const auto echo = echoed(response);
    const auto id = response.header("X-Request-Id");
    REQUIRE(id);
    CHECK(is_uuid_v4(*id));
    CHECK(response.header_count("X-Request-Id") == 1);
    CHECK(echo.header_count("X-Request-Id") == 1);
    CHECK(echo.header("X-Request-Id") == id);

    const auto second = client.send("GET", kBlocksTarget, api_key());
    REQUIRE(second.header("X-Request-Id"));
    CHECK(is_uuid_v4(*second.header("X-Request-Id")));
    CHECK(second.header("X-Request-Id") != id);
}

TEST_CASE("a client's X-Request-Id is kept upstream and in the response") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response =
        client.send("GET", kBlocksTarget, echo_headers({{"X-Request-Id", "trace-42.abc_1:x"}}));
    const auto echo = echoed(response);
    CHECK(response.header("X-Request-Id") == "trace-42.abc_1:x");
    CHECK(response.header_count("X-Request-Id") == 1);
    CHECK(echo.header("X-Request-Id") == "trace-42.abc_1:x");
    CHECK(echo.header_count("X-Request-Id") == 1);
}

TEST_CASE("an X-Request-Id with unsafe characters is replaced by a generated one") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response =
        client.send("GET", kBlocksTarget, echo_headers({{"X-Request-Id", "a b<script>"}}));
    const auto echo = echoed(response);
    const auto id = response.header("X-Request-Id");
    REQUIRE(id);
    CHECK(is_uuid_v4(*id));
    CHECK(echo.header("X-Request-Id") == id);
    CHECK(echo.header_count("X-Request-Id") == 1);
}

TEST_CASE("two X-Request-Id headers are replaced by one generated id") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send(
        "GET", kBlocksTarget, echo_headers({{"X-Request-Id", "first"}, {"X-Request-Id", "second"}}));
    const auto echo = echoed(response);
    const auto id = response.header("X-Request-Id");
    REQUIRE(id);
    CHECK(is_uuid_v4(*id));
    CHECK(echo.header_count("X-Request-Id") == 1);
    CHECK(echo.header("X-Request-Id") == id);
}

TEST_CASE("every error response carries X-Request-Id: 404, 401, 400, 405, 415 and 502") {
    ClosedPort closed;
    GatewayOptions options;
    options.penalties_endpoint = "127.0.0.1:" + std::to_string(closed.port());
    GatewayFixture fixture(options);
    auto client = fixture.client();
    struct Case {
        const char* what;
        std::string method, target;
        Headers headers;
        std::string body;
        int status;
    };
    const Case cases[] = {
        {"404", "GET", "/nope", api_key(), "", 404},
        {"401", "GET", kBlocksTarget, {}, "", 401},
        {"400 path", "GET", "/v2/orgs/telco/subscriptions/abc/blocks", api_key(), "", 400},
        {"400 body", "PATCH", kPatchTarget, api_key({{"Content-Type", "application/json"}}), "{}", 400},
        {"405", "POST", kBlocksTarget, api_key(), "", 405},
        {"415", "PATCH", kPatchTarget, api_key(), R"({"active":true})", 415},
        {"502", "DELETE", "/v2/orgs/telco/penalties/1", api_key(), "", 502},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        SECTION(std::string(c.what) + " generated") {
            const auto response = client.send(c.method, c.target, c.headers, c.body);
            INFO(response.describe());
            CHECK(response.status == c.status);
            REQUIRE(response.header("X-Request-Id"));
            CHECK(is_uuid_v4(*response.header("X-Request-Id")));
        }
        SECTION(std::string(c.what) + " kept") {
            Headers headers = c.headers;
            headers.emplace_back("X-Request-Id", "client-id-7");
            const auto response = client.send(c.method, c.target, headers, c.body);
            INFO(response.describe());
            CHECK(response.status == c.status);
            CHECK(response.header("X-Request-Id") == "client-id-7");
        }
    }
}

TEST_CASE("an upstream error relayed to the client carries the request id as well") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send(
        "GET", kBlocksTarget,
        api_key({{"x-mock-fault", "error-message-404"}, {"X-Request-Id", "relay-1"}}));
    CHECK(response.status == 404);
    CHECK(response.header("X-Request-Id") == "relay-1");
}

namespace {

/// The project's routes plus HEAD on the blocks path; `more` is inserted into the
/// selfCareSocket upstream's settings.
std::string routes_with_head_route(std::string_view more = "") {
    std::string config = insert_after(project_routes_text(), "routes:\n",
                                      "  - name: head-subscription-blocks\n"
                                      "    method: HEAD\n"
                                      "    path: /v2/orgs/{orgId}/subscriptions/{subscriptionId:int64}/blocks\n"
                                      "    roles: [API_KEY]\n"
                                      "    upstream: selfCareSocket\n\n");
    return insert_after(config, "  selfCareSocket:\n", more);
}

}  // namespace

TEST_CASE("a HEAD route answers with the upstream's Content-Length (what a GET returns) and no body") {
    TempDir dir;
    GatewayOptions options;
    options.config_path = dir.write("routes.yaml", routes_with_head_route());
    GatewayFixture fixture(options);
    auto client = fixture.client();
    const auto got = client.send("GET", kBlocksTarget, api_key());
    REQUIRE(got.status == 200);
    REQUIRE_FALSE(got.body.empty());
    const auto head = client.send("HEAD", kBlocksTarget, api_key());
    INFO(head.describe());
    CHECK(head.status == 200);
    CHECK(head.body.empty());
    CHECK(head.header("Content-Length") == std::to_string(got.body.size()));
    CHECK(head.header_count("Content-Length") == 1);
    // The connection is still in step: the next request is answered normally.
    CHECK(client.send("GET", kBlocksTarget, api_key()).body == got.body);
}

TEST_CASE("a HEAD answer's Content-Length is not held against max_response_bytes: no body comes") {
    TempDir dir;
    GatewayOptions options;
    options.config_path = dir.write("routes.yaml", routes_with_head_route("    max_response_bytes: 1024\n"));
    GatewayFixture fixture(options);
    auto client = fixture.client();
    // The mock's big answer is 3 MiB; to HEAD it sends only the head, with that length.
    const auto head = client.send("HEAD", kBlocksTarget, api_key({{"x-mock-fault", "big"}}));
    INFO(head.describe());
    CHECK(head.status == 200);
    CHECK(std::stoul(head.header("Content-Length").value_or("0")) > 1024);
    // A GET of the same is over the limit, and refused.
    CHECK(client.send("GET", kBlocksTarget, api_key({{"x-mock-fault", "big"}})).status == 502);
}

TEST_CASE("the gateway's own error answers to HEAD have no body, and the connection stays in step") {
    TempDir dir;
    GatewayOptions options;
    options.config_path = dir.write("routes.yaml", routes_with_head_route());
    GatewayFixture fixture(options);
    auto client = fixture.client();
    // 401: the route matched, the roles are missing.
    const auto refused = client.send("HEAD", kBlocksTarget, {});
    INFO(refused.describe());
    CHECK(refused.status == 401);
    CHECK(refused.body.empty());
    CHECK(std::stoul(refused.header("Content-Length").value_or("0")) > 0);
    // 404: no route at all.
    CHECK(client.send("HEAD", "/v2/orgs/telco/nothing", api_key()).status == 404);
    // Had a body followed either head, this would read it as its answer.
    const auto next = client.send("GET", kBlocksTarget, api_key());
    INFO(next.describe());
    CHECK(next.status == 200);
}
