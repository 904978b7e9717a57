// 5. Request bodies: media type, size, JSON syntax and the route's schema, all checked before
// anything is forwarded.

#include <catch2/catch.hpp>

#include "support/bodies.hpp"
#include "support/documented_routes.hpp"
#include "support/gateway_fixture.hpp"

using namespace test_support;
using Catch::Matchers::Contains;

namespace {

Headers json_headers(Headers more = {}) {
    more.emplace_back("Content-Type", "application/json");
    return api_key(std::move(more));
}

// The PATCH example of the API docs, as curl sends it: single quotes are not JSON.
const std::string kSeedBody = "{\n  'active': true,\n  'reason': 'Lo ha perdido'\n}";

constexpr std::size_t kMiB = 1024 * 1024;

std::string patch_head(std::size_t content_length, const std::string& extra = "") {
    return std::string("PATCH ") + kPatchTarget +
           " HTTP/1.1\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n"
           "Content-Type: application/json\r\nContent-Length: " +
           std::to_string(content_length) + "\r\n" + extra + "\r\n";
}

}  // namespace

TEST_CASE("the seed's single-quoted PATCH body is refused with 400 code 40003 mentioning single quotes") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("PATCH", kPatchTarget, json_headers(), kSeedBody);
    const auto error = EXPECT_ERROR(response, 400, 40003, "BAD_REQUEST");
    CHECK_THAT(error.detail, Contains("not valid JSON") && Contains("single quotes"));
}

TEST_CASE("{\"active\":\"yes\"} is refused with 400 code 40004: body /active: expected boolean, got string") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("PATCH", kPatchTarget, json_headers(), R"({"active":"yes"})");
    const auto error = EXPECT_ERROR(response, 400, 40004, "BAD_REQUEST");
    CHECK(error.detail == "body /active: expected boolean, got string");
}

TEST_CASE("a body without the required active is refused with 400 code 40004 naming active") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response =
        client.send("PATCH", kPatchTarget, json_headers(), R"({"reason": "Lo ha perdido"})");
    const auto error = EXPECT_ERROR(response, 400, 40004, "BAD_REQUEST");
    CHECK_THAT(error.detail, Contains("missing required property active"));
}

TEST_CASE("BlockStatus says what the Barrings page says and no more: a member the page does not name is forwarded unchanged") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const std::string body = R"({"active": true, "reason": "Lo ha perdido", "channel": "app"})";
    const auto response =
        client.send("PATCH", kPatchTarget, json_headers({{"x-mock-echo", "1"}}), body);
    INFO(response.describe());
    REQUIRE(response.status == 200);
    const auto echo = parse_echo(response.body);
    REQUIRE(echo.valid);
    CHECK(echo.body == body);
}

TEST_CASE("a long reason is accepted: the page bounds only the body, at the 1 MiB limit") {
    GatewayFixture fixture;
    auto client = fixture.client();
    for (const std::size_t length : {std::size_t(1025), std::size_t(100 * 1024)}) {
        INFO("reason of " << length << " characters");
        const std::string body = R"({"active": true, "reason": ")" + std::string(length, 'x') + "\"}";
        const auto response = client.send("PATCH", kPatchTarget, json_headers(), body);
        INFO(response.describe());
        CHECK(response.status == 201);
    }
}

TEST_CASE("a body that is not an object, or empty, or a duplicated key is refused with 400") {
    GatewayFixture fixture;
    auto client = fixture.client();
    SECTION("an array") {
        const auto response = client.send("PATCH", kPatchTarget, json_headers(), "[true]");
        EXPECT_ERROR(response, 400, 40004, "BAD_REQUEST");
    }
    SECTION("truncated JSON") {
        const auto response = client.send("PATCH", kPatchTarget, json_headers(), R"({"active": tr)");
        EXPECT_ERROR(response, 400, 40003, "BAD_REQUEST");
    }
    SECTION("trailing garbage after the document") {
        const auto response = client.send("PATCH", kPatchTarget, json_headers(), R"({"active": true} x)");
        EXPECT_ERROR(response, 400, 40003, "BAD_REQUEST");
    }
    SECTION("an empty body") {
        const auto response = client.send("PATCH", kPatchTarget, json_headers(), "");
        const auto error = EXPECT_ERROR(response, 400, 40003, "BAD_REQUEST");
        CHECK_THAT(error.detail, Contains("empty body"));
    }
    SECTION("active twice") {
        const auto response =
            client.send("PATCH", kPatchTarget, json_headers(), R"({"active": true, "active": false})");
        const auto error = EXPECT_ERROR(response, 400, 40003, "BAD_REQUEST");
        CHECK_THAT(error.detail, Contains("duplicate key"));
    }
}

TEST_CASE("a PATCH with Content-Type text/plain is refused with 415 code 41501") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("PATCH", kPatchTarget,
                                      api_key({{"Content-Type", "text/plain"}}), R"({"active": true})");
    const auto error = EXPECT_ERROR(response, 415, 41501, "UNSUPPORTED_MEDIA_TYPE");
    CHECK_THAT(error.detail, Contains("application/json") && Contains("\"text/plain\""));
}

TEST_CASE("a PATCH without Content-Type is refused with 415 code 41501") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("PATCH", kPatchTarget, api_key(), R"({"active": true})");
    const auto error = EXPECT_ERROR(response, 415, 41501, "UNSUPPORTED_MEDIA_TYPE");
    CHECK_THAT(error.detail, Contains("got none"));
}

TEST_CASE("Content-Type application/json with a charset parameter, in any case, is accepted") {
    GatewayFixture fixture;
    auto client = fixture.client();
    for (const char* type : {"application/json; charset=utf-8", "Application/JSON"}) {
        INFO(type);
        const auto response =
            client.send("PATCH", kPatchTarget, api_key({{"Content-Type", type}}), R"({"active": true})");
        INFO(response.describe());
        CHECK(response.status == 201);
    }
}

TEST_CASE("a PATCH declaring a body over 1 MiB is refused with 413 code 41301 before it is sent") {
    GatewayFixture fixture;
    RawConnection connection(fixture.port());
    const auto deadline = deadline_in(std::chrono::milliseconds(3000));
    // Only the head: the gateway must answer from Content-Length alone, without waiting for
    // (or reading) a megabyte it is going to refuse anyway.
    REQUIRE(connection.write(patch_head(kMiB + 1), deadline));
    const auto response = connection.read_response(deadline);
    REQUIRE(response);
    const auto error = EXPECT_ERROR(*response, 413, 41301, "PAYLOAD_TOO_LARGE");
    CHECK_THAT(error.detail, Contains("1048577") && Contains("1048576"));
}

TEST_CASE("a client that sends a whole 2 MiB body anyway still reads the 413") {
    GatewayFixture fixture;
    RawConnection connection(fixture.port());
    const auto deadline = deadline_in(std::chrono::milliseconds(3000));
    std::string body = R"({"active": true})";
    body.resize(2 * kMiB, ' ');
    // The write may fail half-way (the gateway stops reading and closes); the answer must be
    // on the wire before that.
    connection.write(patch_head(body.size()) + body, deadline);
    const auto response = connection.read_response(deadline);
    REQUIRE(response);
    EXPECT_ERROR(*response, 413, 41301, "PAYLOAD_TOO_LARGE");
}

TEST_CASE("a chunked PATCH body over 1 MiB is refused with 413 code 41301") {
    GatewayFixture fixture;
    RawConnection connection(fixture.port());
    const auto deadline = deadline_in(std::chrono::milliseconds(3000));
    const std::string head = std::string("PATCH ") + kPatchTarget +
                             " HTTP/1.1\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n"
                             "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    // One chunk that announces 1 MiB + 1 bytes: the size line alone is over the limit.
    REQUIRE(connection.write(head + "100001\r\n", deadline));
    const auto response = connection.read_response(deadline);
    REQUIRE(response);
    EXPECT_ERROR(*response, 413, 41301, "PAYLOAD_TOO_LARGE");
}

TEST_CASE("a PATCH body of exactly 1 MiB is accepted and forwarded") {
    GatewayFixture fixture;
    auto client = fixture.client();
    std::string body = R"({"active": true})";
    body.resize(kMiB, ' ');  // trailing whitespace is still one JSON document
    const auto response = client.send("PATCH", kPatchTarget, json_headers({{"x-mock-echo", "1"}}), body);
    INFO(response.status);
    REQUIRE(response.status == 200);
    const auto echo = parse_echo(response.body);
    REQUIRE(echo.valid);
    CHECK(echo.body.size() == kMiB);
    CHECK(echo.body == body);
}

TEST_CASE("a body on a GET route is refused with 400 code 40005") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("GET", kBlocksTarget, api_key({{"x-mock-echo", "1"}}), "hello");
    const auto error = EXPECT_ERROR(response, 400, 40005, "BAD_REQUEST");
    CHECK_THAT(error.detail, Contains("takes no body") && Contains("5 bytes"));
}

TEST_CASE("a body on DELETE is refused with 400 code 40005") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("DELETE", "/v2/orgs/telco/penalties/214748364", json_headers(), "{}");
    EXPECT_ERROR(response, 400, 40005, "BAD_REQUEST");
}

TEST_CASE("invalid requests never reach the mock: x-mock-echo gets the gateway's 400, not the echo") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const Headers echo = json_headers({{"x-mock-echo", "1"}});
    struct Case {
        const char* what;
        std::string method, target, body;
        int status, code;
    };
    const Case cases[] = {
        {"bad body type", "PATCH", kPatchTarget, R"({"active":"yes"})", 400, 40004},
        {"single quotes", "PATCH", kPatchTarget, kSeedBody, 400, 40003},
        {"missing active", "PATCH", kPatchTarget, "{}", 400, 40004},
        {"blockId 3", "PATCH", "/v2/orgs/telco/subscriptions/214748364/blocks/3", R"({"active":true})", 400, 40001},
        {"unknown query", "PUT", "/v2/orgs/telco/penalties/1?x=1", "", 400, 40002},
        {"bad array", "PUT", "/v2/orgs/telco/penalties/1?penalties=[1,x]", "", 400, 40002},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        const auto response = client.send(c.method, c.target, echo, c.body);
        EXPECT_ERROR(response, c.status, c.code, "BAD_REQUEST");
        CHECK(parse_echo(response.body).valid == false);
    }
}
