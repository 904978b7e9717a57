// 2. Paths no route matches (404) and methods a path does not take (405, with Allow).

#include <catch2/catch.hpp>

#include "support/bodies.hpp"
#include "support/documented_routes.hpp"
#include "support/gateway_fixture.hpp"

using namespace test_support;
using Catch::Matchers::Contains;

TEST_CASE("an unknown path is refused with 404 code 40401 naming the path") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("GET", "/v2/orgs/telco/nothing/here", api_key());
    const auto error = EXPECT_ERROR(response, 404, 40401, "NOT_FOUND");
    CHECK_THAT(error.detail, Contains("no route matches") && Contains("/v2/orgs/telco/nothing/here"));
}

TEST_CASE("a documented path with an extra trailing segment or slash is 404, not proxied") {
    GatewayFixture fixture;
    auto client = fixture.client();
    for (const char* target : {"/v2/orgs/telco/subscriptions/214748364/blocks/",
                               "/v2/orgs/telco/subscriptions/214748364/blocks/1/extra",
                               "/v2/orgs//subscriptions/214748364/blocks", "/"}) {
        INFO(target);
        const auto response = client.send("GET", target, api_key({{"x-mock-echo", "1"}}));
        EXPECT_ERROR(response, 404, 40401, "NOT_FOUND");
    }
}

TEST_CASE("POST on a penalty is refused with 405 and Allow: DELETE, GET, PUT") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("POST", "/v2/orgs/telco/penalties/1",
                                      api_key({{"Content-Type", "application/json"}}), "{}");
    const auto error = EXPECT_ERROR(response, 405, 40501, "METHOD_NOT_ALLOWED");
    CHECK(response.header("Allow") == "DELETE, GET, PUT");
    CHECK_THAT(error.detail, Contains("\"POST\"") && Contains("allowed: DELETE, GET, PUT"));
}

TEST_CASE("GET on a block is refused with 405 and Allow: PATCH") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("GET", kPatchTarget, api_key());
    EXPECT_ERROR(response, 405, 40501, "METHOD_NOT_ALLOWED");
    CHECK(response.header("Allow") == "PATCH");
}

TEST_CASE("405 comes before auth: a wrong method without credentials still gets 405") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("DELETE", kBlocksTarget);
    EXPECT_ERROR(response, 405, 40501, "METHOD_NOT_ALLOWED");
    CHECK(response.header("Allow") == "GET");
}

TEST_CASE("a 404 keeps the client connection open for the next request") {
    GatewayFixture fixture;
    auto client = fixture.client();
    EXPECT_ERROR(client.send("GET", "/nope", api_key()), 404, 40401, "NOT_FOUND");
    const auto ok = client.send("GET", kBlocksTarget, api_key());
    CHECK(ok.status == 200);
    CHECK(client.connections_opened() == 1);
}
