// 9. HTTP on the client side, byte by byte: HTTP/1.0, Connection: close, pipelining,
// Expect: 100-continue and requests the gateway cannot parse.

#include <catch2/catch.hpp>

#include <thread>

#include "support/bodies.hpp"
#include "support/documented_routes.hpp"
#include "support/gateway_fixture.hpp"

using namespace test_support;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

constexpr std::chrono::milliseconds kTimeout{3000};

std::string get(const std::string& target, const std::string& version = "HTTP/1.1",
                const std::string& extra = "") {
    return "GET " + target + " " + version + "\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n" +
           extra + "\r\n";
}

}  // namespace

TEST_CASE("an HTTP/1.0 client gets a complete HTTP/1.0 answer and the connection closes") {
    GatewayFixture fixture;
    const auto drained = send_raw(fixture.port(), get(kBlocksTarget, "HTTP/1.0"), kTimeout);
    INFO(drained.bytes);
    CHECK(drained.closed);
    CHECK_FALSE(drained.timed_out);
    CHECK_THAT(drained.bytes, StartsWith("HTTP/1.0 200"));
    const auto response = parse_response(drained.bytes);
    REQUIRE(response);
    CHECK(response->header("Content-Length") == std::to_string(response->body.size()));
    CHECK(is_json(response->body));
    CHECK_THAT(response->body, Contains("\"subscription_id\":214748364"));
}

TEST_CASE("an HTTP/1.0 client gets its error answer and the connection closes") {
    GatewayFixture fixture;
    const auto drained = send_raw(fixture.port(), get("/nope", "HTTP/1.0"), kTimeout);
    INFO(drained.bytes);
    CHECK(drained.closed);
    CHECK_FALSE(drained.timed_out);
    CHECK_THAT(drained.bytes, StartsWith("HTTP/1.0 404"));
    const auto response = parse_response(drained.bytes);
    REQUIRE(response);
    EXPECT_ERROR(*response, 404, 40401, "NOT_FOUND");
}

TEST_CASE("an HTTP/1.0 client asking for keep-alive gets it") {
    GatewayFixture fixture;
    RawConnection connection(fixture.port());
    const auto deadline = deadline_in(kTimeout);
    for (int i = 0; i < 2; ++i) {
        REQUIRE(connection.write(get(kBlocksTarget, "HTTP/1.0", "Connection: keep-alive\r\n"), deadline));
        const auto response = connection.read_response(deadline);
        REQUIRE(response);
        INFO(response->describe());
        CHECK(response->status == 200);
        CHECK(response->version == 10);
        CHECK(response->header("Connection") == "keep-alive");
    }
}

TEST_CASE("Connection: close from an HTTP/1.1 client is honoured after the answer") {
    GatewayFixture fixture;
    const auto drained =
        send_raw(fixture.port(), get(kBlocksTarget, "HTTP/1.1", "Connection: close\r\n"), kTimeout);
    INFO(drained.bytes);
    CHECK(drained.closed);
    CHECK_FALSE(drained.timed_out);
    const auto response = parse_response(drained.bytes);
    REQUIRE(response);
    CHECK(response->status == 200);
    CHECK(response->header("Connection") == "close");
}

TEST_CASE("two pipelined requests get two answers in order on one connection") {
    GatewayFixture fixture;
    RawConnection connection(fixture.port());
    const auto deadline = deadline_in(kTimeout);
    REQUIRE(connection.write(get(kBlocksTarget) + get("/v2/orgs/telco/penalties/5?reason=cancel"),
                             deadline));
    const auto first = connection.read_response(deadline);
    const auto second = connection.read_response(deadline);
    REQUIRE(first);
    REQUIRE(second);
    CHECK(first->status == 200);
    CHECK_THAT(first->body, Contains("\"subscription_id\":214748364"));
    CHECK(second->status == 200);
    CHECK_THAT(second->body, Contains("\"account_id\":5"));
}

namespace {

const std::string kExpectBody = R"({"active": true})";
const std::string kExpectHead = std::string("PATCH ") + kPatchTarget +
                                " HTTP/1.1\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n"
                                "Content-Type: application/json\r\nContent-Length: 16\r\n"
                                "Expect: 100-continue\r\n\r\n";

}  // namespace

TEST_CASE("PATCH with Expect: 100-continue gets 100 Continue, then 201 once the body is sent") {
    GatewayFixture fixture;
    RawConnection connection(fixture.port());
    const auto deadline = deadline_in(kTimeout);
    REQUIRE(connection.write(kExpectHead, deadline));
    const auto interim = connection.read_until("\r\n\r\n", deadline);
    REQUIRE(interim);
    CHECK(*interim == "HTTP/1.1 100 Continue\r\n\r\n");
    REQUIRE(connection.write(kExpectBody, deadline));
    const auto response = connection.read_response(deadline);
    REQUIRE(response);
    INFO("final response:\n" << response->describe());
    REQUIRE(response->status == 201);
    CHECK(response->body.empty());

    // The connection is still good for another request.
    REQUIRE(connection.write(get(kBlocksTarget), deadline));
    const auto next = connection.read_response(deadline);
    REQUIRE(next);
    INFO("next response:\n" << next->describe());
    CHECK(next->status == 200);
    CHECK_THAT(next->body, Contains("\"subscription_id\":214748364"));
}

TEST_CASE("an Expect: 100-continue PATCH does not leave its answer behind for the next request") {
    GatewayFixture fixture;
    {
        RawConnection connection(fixture.port());
        const auto deadline = deadline_in(kTimeout);
        // delay-50: the upstream's final answer comes a little after its interim one, as it
        // does from any backend that takes a moment to act on the PATCH.
        const std::string head = std::string("PATCH ") + kPatchTarget +
                                 " HTTP/1.1\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n"
                                 "x-mock-fault: delay-50\r\n"
                                 "Content-Type: application/json\r\nContent-Length: 16\r\n"
                                 "Expect: 100-continue\r\n\r\n";
        REQUIRE(connection.write(head, deadline));
        REQUIRE(connection.read_until("\r\n\r\n", deadline));
        REQUIRE(connection.write(kExpectBody, deadline));
        connection.read_response(deadline);
    }
    // Other clients, later: each must get the answer to its own GET, never the PATCH's 201
    // still travelling on a pooled upstream connection.
    for (int i = 0; i < 3; ++i) {
        auto client = fixture.client();
        const auto response = client.send("GET", kBlocksTarget, api_key());
        INFO("GET number " << i << ":\n" << response.describe());
        CHECK(response.status == 200);
        CHECK_THAT(response.body, Contains("\"subscription_id\":214748364"));
    }
}

TEST_CASE("Expect: 100-continue on a request refused by its head gets the refusal, not 100") {
    GatewayFixture fixture;
    RawConnection connection(fixture.port());
    const auto deadline = deadline_in(kTimeout);
    const std::string head = std::string("PATCH ") + kPatchTarget +
                             " HTTP/1.1\r\nHost: gateway\r\nx-auth-roles: USER\r\n"
                             "Content-Type: application/json\r\nContent-Length: 16\r\n"
                             "Expect: 100-continue\r\n\r\n";
    REQUIRE(connection.write(head, deadline));
    const auto response = connection.read_response(deadline);
    REQUIRE(response);
    EXPECT_ERROR(*response, 403, 40301, "FORBIDDEN");
}

TEST_CASE("a request line that is not HTTP gets 400 code 40000 and the connection closes") {
    GatewayFixture fixture;
    const auto drained = send_raw(fixture.port(), "this is not HTTP\r\n\r\n", kTimeout);
    INFO(drained.bytes);
    CHECK(drained.closed);
    CHECK_FALSE(drained.timed_out);
    const auto response = parse_response(drained.bytes);
    REQUIRE(response);
    EXPECT_ERROR(*response, 400, 40000, "BAD_REQUEST");
}

TEST_CASE("a header block over 16 KiB gets 431 code 43101") {
    GatewayFixture fixture;
    const auto drained = send_raw(
        fixture.port(), get(kBlocksTarget, "HTTP/1.1", "X-Big: " + std::string(20000, 'a') + "\r\n"),
        kTimeout);
    INFO(drained.bytes.substr(0, 500));
    CHECK(drained.closed);
    const auto response = parse_response(drained.bytes);
    REQUIRE(response);
    EXPECT_ERROR(*response, 431, 43101, "REQUEST_HEADER_FIELDS_TOO_LARGE");
}

TEST_CASE("a request with both Content-Length and Transfer-Encoding is refused, not forwarded") {
    GatewayFixture fixture;
    const std::string request = std::string("PATCH ") + kPatchTarget +
                                " HTTP/1.1\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n"
                                "x-mock-echo: 1\r\nContent-Type: application/json\r\n"
                                "Content-Length: 16\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "10\r\n{\"active\": true}\r\n0\r\n\r\n";
    const auto drained = send_raw(fixture.port(), request, kTimeout);
    INFO(drained.bytes);
    const auto response = parse_response(drained.bytes);
    REQUIRE(response);
    EXPECT_ERROR(*response, 400, 40000, "BAD_REQUEST");
}

TEST_CASE("a request with two different Content-Length values is refused with 400 code 40000") {
    GatewayFixture fixture;
    const std::string request = std::string("PATCH ") + kPatchTarget +
                                " HTTP/1.1\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n"
                                "x-mock-echo: 1\r\nContent-Type: application/json\r\n"
                                "Content-Length: 16\r\nContent-Length: 5\r\n\r\n"
                                "{\"active\": true}";
    const auto drained = send_raw(fixture.port(), request, kTimeout);
    INFO(drained.bytes);
    const auto response = parse_response(drained.bytes);
    REQUIRE(response);
    EXPECT_ERROR(*response, 400, 40000, "BAD_REQUEST");
}

TEST_CASE("a chunked PATCH body is accepted and forwarded with the same bytes") {
    GatewayFixture fixture;
    const std::string request = std::string("PATCH ") + kPatchTarget +
                                " HTTP/1.1\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n"
                                "x-mock-echo: 1\r\nContent-Type: application/json\r\n"
                                "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                                "8\r\n{\"active\r\n8\r\n\": true}\r\n0\r\n\r\n";
    const auto drained = send_raw(fixture.port(), request, kTimeout);
    const auto response = parse_response(drained.bytes);
    REQUIRE(response);
    INFO(response->describe());
    REQUIRE(response->status == 200);
    const auto echo = parse_echo(response->body);
    REQUIRE(echo.valid);
    CHECK(echo.body == R"({"active": true})");
    CHECK(echo.header_count("Transfer-Encoding") == 0);
    CHECK(echo.header("Content-Length") == "16");
}

TEST_CASE("an HTTP/1.0 client sending Expect: 100-continue gets no 100 Continue, only its final answer") {
    GatewayFixture fixture;
    const std::string head = std::string("PATCH ") + kPatchTarget +
                             " HTTP/1.0\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n"
                             "Content-Type: application/json\r\nContent-Length: 16\r\n"
                             "Expect: 100-continue\r\n\r\n";
    RawConnection connection(fixture.port());
    const auto deadline = deadline_in(kTimeout);
    REQUIRE(connection.write(head, deadline));
    // A 1.0 client does not wait for a 100 (RFC 9110 15.2): it sends its body after a pause.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    REQUIRE(connection.write(kExpectBody, deadline));
    const auto drained = connection.read_until_close(deadline);
    INFO("bytes received:\n" << drained.bytes);
    CHECK_THAT(drained.bytes, StartsWith("HTTP/1.0 201"));
    CHECK(drained.bytes.find("100 Continue") == std::string::npos);
}
