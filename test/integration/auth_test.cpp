// 3. x-auth-roles: missing or empty is 401, no accepted role is 403, any accepted role passes.

#include <catch2/catch.hpp>

#include "support/bodies.hpp"
#include "support/documented_routes.hpp"
#include "support/gateway_fixture.hpp"

using namespace test_support;
using Catch::Matchers::Contains;

TEST_CASE("a request without x-auth-roles is refused with 401 code 40101") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("GET", kBlocksTarget, {{"x-mock-echo", "1"}});
    const auto error = EXPECT_ERROR(response, 401, 40101, "UNAUTHORIZED");
    CHECK_THAT(error.detail, Contains("x-auth-roles") && Contains("missing") && Contains("API_KEY"));
}

TEST_CASE("an empty x-auth-roles header is refused with 401 code 40101") {
    GatewayFixture fixture;
    auto client = fixture.client();
    for (const char* value : {"", " ", " , "}) {
        INFO("x-auth-roles: '" << value << "'");
        const auto response = client.send("GET", kBlocksTarget, {{"x-auth-roles", value}});
        const auto error = EXPECT_ERROR(response, 401, 40101, "UNAUTHORIZED");
        CHECK_THAT(error.detail, Contains("x-auth-roles") && Contains("empty"));
    }
}

TEST_CASE("a role the route does not accept is refused with 403 code 40301 naming API_KEY") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response =
        client.send("GET", kBlocksTarget, {{"x-auth-roles", "USER"}, {"x-mock-echo", "1"}});
    const auto error = EXPECT_ERROR(response, 403, 40301, "FORBIDDEN");
    CHECK_THAT(error.detail, Contains("\"USER\"") && Contains("API_KEY"));
}

TEST_CASE("roles are matched exactly: api_key and API_KEYS are not API_KEY") {
    GatewayFixture fixture;
    auto client = fixture.client();
    for (const char* value : {"api_key", "API_KEYS", "API", "API_KEY_OLD"}) {
        INFO("x-auth-roles: " << value);
        EXPECT_ERROR(client.send("GET", kBlocksTarget, {{"x-auth-roles", value}}), 403, 40301,
                     "FORBIDDEN");
    }
}

TEST_CASE("x-auth-roles: OTHER, API_KEY is allowed") {
    GatewayFixture fixture;
    auto client = fixture.client();
    for (const char* value : {"OTHER, API_KEY", "OTHER,API_KEY", "  API_KEY  ", "API_KEY,OTHER"}) {
        INFO("x-auth-roles: " << value);
        const auto response = client.send("GET", kBlocksTarget, {{"x-auth-roles", value}});
        INFO(response.describe());
        CHECK(response.status == 200);
    }
}

TEST_CASE("auth is checked on every documented route, including PATCH") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("PATCH", kPatchTarget,
                                      {{"Content-Type", "application/json"}, {"x-auth-roles", "USER"}},
                                      R"({"active": true})");
    EXPECT_ERROR(response, 403, 40301, "FORBIDDEN");
}

TEST_CASE("the x-auth-roles header name is case-insensitive") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("GET", kBlocksTarget, {{"X-AUTH-ROLES", "API_KEY"}});
    INFO(response.describe());
    CHECK(response.status == 200);
}

TEST_CASE("x-auth-roles sent as two header lines is one list: OTHER then API_KEY is allowed") {
    GatewayFixture fixture;
    auto client = fixture.client();
    SECTION("adjacent lines") {
        const auto response =
            client.send("GET", kBlocksTarget, {{"x-auth-roles", "OTHER"}, {"x-auth-roles", "API_KEY"}});
        INFO(response.describe());
        CHECK(response.status == 200);
    }
    SECTION("lines with another header between them") {
        const auto response = client.send(
            "GET", kBlocksTarget,
            {{"x-auth-roles", "OTHER"}, {"Accept", "application/json"}, {"x-auth-roles", "API_KEY"}});
        INFO(response.describe());
        CHECK(response.status == 200);
    }
}
