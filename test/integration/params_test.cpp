// 4. Path and query parameters are checked against routes.yaml before anything is forwarded.

#include <catch2/catch.hpp>

#include "support/bodies.hpp"
#include "support/documented_routes.hpp"
#include "support/gateway_fixture.hpp"

using namespace test_support;
using Catch::Matchers::Contains;

namespace {

const std::string kBody = R"({"active": true})";

Headers json_headers() { return api_key({{"Content-Type", "application/json"}}); }

}  // namespace

TEST_CASE("subscriptionId abc is refused with 400 code 40001 naming subscriptionId") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response =
        client.send("GET", "/v2/orgs/telco/subscriptions/abc/blocks", api_key({{"x-mock-echo", "1"}}));
    const auto error = EXPECT_ERROR(response, 400, 40001, "BAD_REQUEST");
    CHECK_THAT(error.detail, Contains("subscriptionId") && Contains("int64") && Contains("\"abc\""));
}

TEST_CASE("PATCH with blockId 3 is refused with 400 naming blockId and its values 1, 2") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response =
        client.send("PATCH", "/v2/orgs/telco/subscriptions/214748364/blocks/3", json_headers(), kBody);
    const auto error = EXPECT_ERROR(response, 400, 40001, "BAD_REQUEST");
    CHECK_THAT(error.detail, Contains("blockId") && Contains("must be one of 1, 2") && Contains("got 3"));
}

TEST_CASE("PATCH with the seed's blockId 214748364 is refused with 400 naming blockId") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send(
        "PATCH", "/v2/orgs/telco/subscriptions/214748364/blocks/214748364", json_headers(), kBody);
    const auto error = EXPECT_ERROR(response, 400, 40001, "BAD_REQUEST");
    CHECK_THAT(error.detail, Contains("blockId") && Contains("must be one of 1, 2"));
}

TEST_CASE("PATCH with blockId 2 is accepted") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response =
        client.send("PATCH", "/v2/orgs/telco/subscriptions/214748364/blocks/2", json_headers(), kBody);
    INFO(response.describe());
    CHECK(response.status == 201);
}

TEST_CASE("int64 subscriptionId 9223372036854775808 overflows and is refused with 400") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send(
        "GET", "/v2/orgs/telco/subscriptions/9223372036854775808/blocks", api_key());
    const auto error = EXPECT_ERROR(response, 400, 40001, "BAD_REQUEST");
    CHECK_THAT(error.detail, Contains("subscriptionId") && Contains("out of range"));
}

TEST_CASE("int64 subscriptionId 9223372036854775807 (the maximum) is accepted") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response =
        client.send("GET", "/v2/orgs/telco/subscriptions/9223372036854775807/blocks", api_key());
    INFO(response.describe());
    CHECK(response.status == 200);
}

TEST_CASE("int64 path parameters refuse signs, spaces, decimals and an empty value") {
    GatewayFixture fixture;
    auto client = fixture.client();
    for (const char* id : {"1.5", "%201", "1e3", "0x10", "%2B1"}) {
        const std::string target = std::string("/v2/orgs/telco/penalties/") + id + "?reason=cancel";
        INFO(target);
        const auto response = client.send("GET", target, api_key());
        const auto error = EXPECT_ERROR(response, 400, 40001, "BAD_REQUEST");
        CHECK_THAT(error.detail, Contains("accountId"));
    }
}

TEST_CASE("an encoded slash in a path parameter is refused with 400, not forwarded") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response =
        client.send("GET", "/v2/orgs/tel%2Fco/subscriptions/1/blocks", api_key({{"x-mock-echo", "1"}}));
    const auto error = EXPECT_ERROR(response, 400, 40006, "BAD_REQUEST");
    CHECK_THAT(error.detail, Contains("\"tel%2Fco\"") && Contains("encoded '/'"));
}

TEST_CASE("a subscriptionUUID that is not a uuid is refused with 400 naming subscriptionUUID") {
    GatewayFixture fixture;
    auto client = fixture.client();
    for (const char* uuid : {"not-a-uuid", "123e4567-e89b-12d3-a456-55664244000",
                             "123e4567e89b12d3a456556642440000", "123e4567-e89b-12d3-a456-55664244000g"}) {
        const std::string target =
            std::string("/v2/orgs/telco/penalties/214748364/subscriptions/uuid/") + uuid;
        INFO(target);
        const auto response = client.send("GET", target, api_key());
        const auto error = EXPECT_ERROR(response, 400, 40001, "BAD_REQUEST");
        CHECK_THAT(error.detail, Contains("subscriptionUUID") && Contains("uuid"));
    }
}

TEST_CASE("a missing required reason is refused with 400 code 40002 saying required") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("GET", "/v2/orgs/telco/penalties/214748364", api_key());
    const auto error = EXPECT_ERROR(response, 400, 40002, "BAD_REQUEST");
    CHECK_THAT(error.detail, Contains("reason") && Contains("required") &&
                                 Contains("unsubscribe") && Contains("cancel"));
}

TEST_CASE("a reason outside the enum is refused with 400 code 40002 listing the values") {
    GatewayFixture fixture;
    auto client = fixture.client();
    SECTION("account penalties: unsubscribe or cancel") {
        const auto response =
            client.send("GET", "/v2/orgs/telco/penalties/214748364?reason=device", api_key());
        const auto error = EXPECT_ERROR(response, 400, 40002, "BAD_REQUEST");
        CHECK_THAT(error.detail, Contains("reason") && Contains("unsubscribe, cancel") &&
                                     Contains("\"device\""));
    }
    SECTION("subscription penalties: broadband_subscription, device or mobile") {
        const auto response = client.send(
            "GET", "/v2/orgs/telco/penalties/214748364/subscriptions/214748364?reason=cancel",
            api_key());
        const auto error = EXPECT_ERROR(response, 400, 40002, "BAD_REQUEST");
        CHECK_THAT(error.detail, Contains("broadband_subscription, device, mobile"));
    }
    SECTION("enum values are case-sensitive") {
        const auto response =
            client.send("GET", "/v2/orgs/telco/penalties/214748364?reason=CANCEL", api_key());
        EXPECT_ERROR(response, 400, 40002, "BAD_REQUEST");
    }
}

TEST_CASE("the seed's doubled query ?reason='unsubscribe'?reason=unsubscribe is 400 with the '?' hint") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send(
        "GET", "/v2/orgs/telco/penalties/214748364?reason='unsubscribe'?reason=unsubscribe",
        api_key({{"x-mock-echo", "1"}}));
    const auto error = EXPECT_ERROR(response, 400, 40002, "BAD_REQUEST");
    CHECK_THAT(error.detail, Contains("reason") && Contains("second '?'") && Contains("'&'"));
}

TEST_CASE("a quoted enum value ?reason='cancel' is 400 with the hint to drop the quotes") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response =
        client.send("GET", "/v2/orgs/telco/penalties/214748364?reason='cancel'", api_key());
    const auto error = EXPECT_ERROR(response, 400, 40002, "BAD_REQUEST");
    CHECK_THAT(error.detail, Contains("drop the quotes"));
}

TEST_CASE("an unknown query parameter is refused with 400 code 40002 naming it") {
    GatewayFixture fixture;
    auto client = fixture.client();
    SECTION("on a route with query parameters") {
        const auto response = client.send(
            "GET", "/v2/orgs/telco/penalties/214748364?reason=cancel&foo=1", api_key());
        const auto error = EXPECT_ERROR(response, 400, 40002, "BAD_REQUEST");
        CHECK_THAT(error.detail, Contains("\"foo\"") && Contains("unknown parameter") &&
                                     Contains("reason"));
    }
    SECTION("on a route without any") {
        const auto response = client.send("GET", std::string(kBlocksTarget) + "?debug=true", api_key());
        const auto error = EXPECT_ERROR(response, 400, 40002, "BAD_REQUEST");
        CHECK_THAT(error.detail, Contains("\"debug\"") && Contains("no query parameters"));
    }
}

TEST_CASE("reason given twice with different values is refused with 400") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send(
        "GET", "/v2/orgs/telco/penalties/214748364?reason=cancel&reason=unsubscribe", api_key());
    const auto error = EXPECT_ERROR(response, 400, 40002, "BAD_REQUEST");
    CHECK_THAT(error.detail, Contains("more than once"));
}

TEST_CASE("PUT penalties as repeated keys and as [1,2] is forwarded with the query unchanged") {
    GatewayFixture fixture;
    auto client = fixture.client();
    for (const std::string query :
         {"penalties=1&penalties=2", "penalties=[1,2]", "penalties=1,2", "penalties=%5B1%2C2%5D",
          "penalties=[0]", "penalties=[]"}) {
        const std::string target = "/v2/orgs/telco/penalties/214748364?" + query;
        INFO(target);
        const auto response = client.send("PUT", target, api_key({{"x-mock-echo", "1"}}));
        INFO(response.describe());
        REQUIRE(response.status == 200);
        const auto echo = parse_echo(response.body);
        REQUIRE(echo.valid);
        CHECK(echo.method == "PUT");
        CHECK(echo.target == target);
    }
}

TEST_CASE("PUT without penalties (it is optional) answers the mock's 200") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("PUT", "/v2/orgs/telco/penalties/214748364", api_key());
    INFO(response.describe());
    CHECK(response.status == 200);
}

TEST_CASE("PUT penalties=[1,x] is refused with 400 naming the bad element") {
    GatewayFixture fixture;
    auto client = fixture.client();
    for (const char* query : {"penalties=[1,x]", "penalties=1&penalties=x", "penalties=[1,2",
                              "penalties=9223372036854775808"}) {
        const std::string target = std::string("/v2/orgs/telco/penalties/214748364?") + query;
        INFO(target);
        const auto response = client.send("PUT", target, api_key({{"x-mock-echo", "1"}}));
        const auto error = EXPECT_ERROR(response, 400, 40002, "BAD_REQUEST");
        CHECK_THAT(error.detail, Contains("penalties"));
    }
    const auto response =
        client.send("PUT", "/v2/orgs/telco/penalties/214748364?penalties=[1,x]", api_key());
    const auto error = EXPECT_ERROR(response, 400, 40002, "BAD_REQUEST");
    CHECK_THAT(error.detail, Contains("element 1") && Contains("\"x\""));
}

TEST_CASE("a percent-encoded enum value is decoded for the check and forwarded as sent") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const std::string target = "/v2/orgs/telco/penalties/214748364?reason=can%63el";
    const auto response = client.send("GET", target, api_key({{"x-mock-echo", "1"}}));
    INFO(response.describe());
    REQUIRE(response.status == 200);
    CHECK(parse_echo(response.body).target == target);
}

TEST_CASE("an invalid percent-encoding in the query is refused with 400 code 40002") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response =
        client.send("GET", "/v2/orgs/telco/penalties/214748364?reason=%zz", api_key());
    const auto error = EXPECT_ERROR(response, 400, 40002, "BAD_REQUEST");
    CHECK_THAT(error.detail, Contains("percent-encoding") && Contains("%zz"));
}
