// Hardening 2: request bodies. JSON that backends could read differently (duplicated keys,
// trailing data, bad UTF-8, deep nesting) is refused before anything is forwarded; chunked
// bodies are de-chunked, limited like any other and forwarded with a Content-Length.

#include <catch2/catch.hpp>

#include "support/bodies.hpp"
#include "support/documented_routes.hpp"
#include "support/gateway_fixture.hpp"
#include "support/hardening.hpp"

using namespace test_support;
using Catch::Matchers::Contains;

namespace {

using std::chrono::milliseconds;

Headers json_headers(Headers more = {}) {
    more.emplace_back("Content-Type", "application/json");
    return api_key(std::move(more));
}

/// A PATCH head announcing a chunked body; `extra` header lines go before the blank line.
std::string chunked_patch_head(const std::string& extra = "") {
    return std::string("PATCH ") + kPatchTarget +
           " HTTP/1.1\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n"
           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n" +
           extra + "\r\n";
}

std::string chunk(const std::string& data) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return size + data + "\r\n";
}

/// A valid BlockStatus of exactly `size` bytes (size >= 40).
std::string block_status_of_size(std::size_t size) {
    const std::string prefix = R"({"active":true,"reason":")";
    const std::string suffix = R"("})";
    return prefix + std::string(size - prefix.size() - suffix.size(), 'r') + suffix;
}

/// Reads the mock's x-mock-echo answer off `connection`: a 200 whose body says what the
/// upstream received.
EchoedRequest read_echo(RawConnection& connection, Clock::time_point deadline) {
    const auto response = connection.read_response(deadline);
    REQUIRE(response);
    INFO(response->describe());
    REQUIRE(response->status == 200);
    auto echo = parse_echo(response->body);
    REQUIRE(echo.valid);
    return echo;
}

struct BadBody {
    const char* what;
    std::string body;
    const char* detail_words;  // what detailMsg must say
};

}  // namespace

TEST_CASE("bodies: JSON a backend could read differently is refused with 400 code 40003 and never forwarded") {
    GatewayFixture fixture;
    const std::vector<BadBody> cases = {
        {"a duplicated key", R"({"active":true,"active":false})", "duplicate key"},
        {"trailing data after the document", R"({"active":true} x)", "must not be followed"},
        {"two documents", R"({"active":true}{"active":false})", "must not be followed"},
        {"invalid UTF-8 in a string", "{\"active\":true,\"reason\":\"\xff\"}", "Invalid encoding"},
    };
    auto client = fixture.client(milliseconds(3000));
    for (const auto& c : cases) {
        INFO("case: " << c.what);
        reset_mock_request_count(fixture.mock_port());
        const auto response =
            client.send("PATCH", kPatchTarget, json_headers({{"x-mock-echo", "1"}}), c.body);
        const auto error = EXPECT_ERROR(response, 400, 40003, "BAD_REQUEST");
        CHECK_THAT(error.detail, Contains(c.detail_words));
        CHECK(mock_request_count(fixture.mock_port()) == 0);
    }
    // The same connection still carries a valid PATCH.
    const auto ok = client.send("PATCH", kPatchTarget, json_headers(), R"({"active":true})");
    INFO(ok.describe());
    CHECK(ok.status == 201);
}

TEST_CASE("bodies: a chunked PATCH sent in three chunks reaches the upstream with Content-Length, no Transfer-Encoding, the same bytes") {
    GatewayFixture fixture;
    const std::string body = R"({"active": false, "reason": "Lo ha perdido"})";
    const std::vector<std::string> pieces = {body.substr(0, 10), body.substr(10, 20), body.substr(30)};
    RawConnection connection(fixture.port());
    const auto deadline = deadline_in(milliseconds(3000));
    // Each chunk in a write of its own: the gateway must assemble them, not take the first.
    REQUIRE(connection.write(chunked_patch_head("x-mock-echo: 1\r\n"), deadline));
    for (const auto& piece : pieces) REQUIRE(connection.write(chunk(piece), deadline));
    REQUIRE(connection.write("0\r\n\r\n", deadline));
    const auto echo = read_echo(connection, deadline);
    CHECK(echo.method == "PATCH");
    CHECK(echo.body == body);
    CHECK(echo.header("Content-Length") == std::to_string(body.size()));
    CHECK(echo.header_count("Content-Length") == 1);
    CHECK(echo.header_count("Transfer-Encoding") == 0);
}

TEST_CASE("bodies: a chunked body over the route's max_body_bytes 100 is refused with 413 code 41301 and not forwarded") {
    TempDir dir;
    const std::string config = insert_after(project_routes_text(), "    body: schemas/BlockStatus.json\n",
                                            "    max_body_bytes: 100\n");
    GatewayOptions options;
    options.config_path = dir.write("routes.yaml", config);
    GatewayFixture fixture(options);

    SECTION("200 bytes in 50-byte chunks: 413") {
        const std::string body = block_status_of_size(200);
        reset_mock_request_count(fixture.mock_port());
        RawConnection connection(fixture.port());
        const auto deadline = deadline_in(milliseconds(3000));
        REQUIRE(connection.write(chunked_patch_head(), deadline));
        // The gateway may answer and close as soon as the limit is crossed; later writes can
        // then fail, which is fine.
        for (std::size_t at = 0; at < body.size(); at += 50) {
            if (!connection.write(chunk(body.substr(at, 50)), deadline)) break;
        }
        connection.write("0\r\n\r\n", deadline);
        const auto response = connection.read_response(deadline);
        REQUIRE(response);
        const auto error = EXPECT_ERROR(*response, 413, 41301, "PAYLOAD_TOO_LARGE");
        CHECK_THAT(error.detail, Contains("100"));
        CHECK(mock_request_count(fixture.mock_port()) == 0);
    }
    SECTION("200 bytes in chunks written together with the head: 413 all the same") {
        const std::string body = block_status_of_size(200);
        reset_mock_request_count(fixture.mock_port());
        RawConnection connection(fixture.port());
        const auto deadline = deadline_in(milliseconds(3000));
        std::string whole = chunked_patch_head();
        for (std::size_t at = 0; at < body.size(); at += 50) whole += chunk(body.substr(at, 50));
        REQUIRE(connection.write(whole + "0\r\n\r\n", deadline));
        const auto response = connection.read_response(deadline);
        REQUIRE(response);
        const auto error = EXPECT_ERROR(*response, 413, 41301, "PAYLOAD_TOO_LARGE");
        CHECK_THAT(error.detail, Contains("100"));
        CHECK(mock_request_count(fixture.mock_port()) == 0);
    }
    SECTION("control: 100 bytes in chunks are accepted (the limit is the route's, inclusive)") {
        const std::string body = block_status_of_size(100);
        RawConnection connection(fixture.port());
        const auto deadline = deadline_in(milliseconds(3000));
        REQUIRE(connection.write(chunked_patch_head("x-mock-echo: 1\r\n"), deadline));
        for (std::size_t at = 0; at < body.size(); at += 30) {
            REQUIRE(connection.write(chunk(body.substr(at, 30)), deadline));
        }
        REQUIRE(connection.write("0\r\n\r\n", deadline));
        const auto echo = read_echo(connection, deadline);
        CHECK(echo.body == body);
    }
}

TEST_CASE("bodies: a 10,000-level document is a 400 and the gateway stays up") {
    // BlockStatus refuses the first '[' (it wants an object), before the depth bound (64, unit
    // tested with a permissive schema) is reached; either way: no recursion, no crash.
    GatewayFixture fixture;
    auto client = fixture.client(milliseconds(3000));
    reset_mock_request_count(fixture.mock_port());
    for (const std::string& body : {std::string(10000, '[') + std::string(10000, ']'),
                                    "{\"active\":" + std::string(10000, '[') + std::string(10000, ']') + "}"}) {
        const auto response = client.send("PATCH", kPatchTarget, json_headers(), body);
        const auto error = EXPECT_ERROR(response, 400, 40004, "BAD_REQUEST");
        CHECK_THAT(error.detail, Contains("expected"));
    }
    CHECK(mock_request_count(fixture.mock_port()) == 0);
    const auto ok = client.send("PATCH", kPatchTarget, json_headers(), R"({"active":true})");
    CHECK(ok.status == 201);
}

TEST_CASE("bodies: a chunked body's trailer fields never reach the upstream: no second x-auth-roles, Host, Content-Type or X-Forwarded-For") {
    GatewayFixture fixture;
    const std::string body = R"({"active": true, "reason": "Lo ha perdido"})";
    RawConnection connection(fixture.port());
    const auto deadline = deadline_in(milliseconds(3000));
    const std::string trailers =
        "x-auth-roles: ADMIN\r\nHost: evil.example\r\nContent-Type: text/plain\r\n"
        "X-Forwarded-For: 6.6.6.6\r\nX-Trailer-Only: sneaked\r\n";
    REQUIRE(connection.write(chunked_patch_head("x-mock-echo: 1\r\n") + chunk(body) + "0\r\n" +
                                 trailers + "\r\n",
                             deadline));
    const auto echo = read_echo(connection, deadline);
    CHECK(echo.body == body);
    CHECK(echo.header_count("x-auth-roles") <= 1);
    CHECK(echo.header("x-auth-roles").value_or("API_KEY") == "API_KEY");
    CHECK(echo.header_count("Host") == 1);
    CHECK(echo.header("Host").value_or("") != "evil.example");
    CHECK(echo.header_count("Content-Type") == 1);
    CHECK(echo.header("Content-Type") == "application/json");
    CHECK_THAT(echo.header("X-Forwarded-For").value_or(""), !Contains("6.6.6.6"));
    CHECK(echo.header_count("X-Trailer-Only") == 0);
    // The connection goes on in step: the next request gets its own answer.
    REQUIRE(connection.write(std::string("GET ") + kBlocksTarget +
                                 " HTTP/1.1\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n\r\n",
                             deadline));
    const auto next = connection.read_response(deadline);
    REQUIRE(next);
    CHECK(next->status == 200);
    CHECK_THAT(next->body, Contains("\"subscription_id\":214748364"));
}

TEST_CASE("bodies: a trailer section over max_header_bytes is refused with 431 code 43101 and not forwarded") {
    GatewayFixture fixture;
    reset_mock_request_count(fixture.mock_port());
    const std::string body = R"({"active": true})";
    // 20 KiB of trailer fields, over the default 16 KiB bound, written in pieces.
    std::string trailers;
    for (int i = 0; i < 20; ++i) trailers += "X-Pad-" + std::to_string(i) + ": " + std::string(1000, 'p') + "\r\n";
    const auto drained = send_raw(fixture.port(),
                                  chunked_patch_head() + chunk(body) + "0\r\n" + trailers + "\r\n",
                                  milliseconds(3000));
    const auto responses = parse_responses(drained.bytes);
    REQUIRE(responses.size() == 1);
    const auto error = EXPECT_ERROR(responses.front(), 431, 43101, "REQUEST_HEADER_FIELDS_TOO_LARGE");
    CHECK(error.detail == "chunked body: the trailer section is over 16384 bytes");
    CHECK(drained.closed);
    CHECK(mock_request_count(fixture.mock_port()) == 0);
}

TEST_CASE("bodies: a chunk-size line over max_header_bytes (a huge extension) is refused with 400 and not forwarded") {
    GatewayFixture fixture;
    reset_mock_request_count(fixture.mock_port());
    const std::string body = R"({"active": true})";
    const std::string line = "10;ext=" + std::string(20000, 'e') + "\r\n";
    const auto drained = send_raw(fixture.port(), chunked_patch_head() + line + body + "\r\n0\r\n\r\n",
                                  milliseconds(3000));
    const auto responses = parse_responses(drained.bytes);
    REQUIRE(responses.size() == 1);
    const auto error = EXPECT_ERROR(responses.front(), 400, 40000, "BAD_REQUEST");
    CHECK(error.detail == "chunked body: a chunk-size line is over 16384 bytes");
    CHECK(drained.closed);
    CHECK(mock_request_count(fixture.mock_port()) == 0);
}
