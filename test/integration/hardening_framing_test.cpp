// Hardening 1: request framing. Every request whose framing a backend could read differently
// from the gateway is refused with 400 code 40000 and Connection: close, the connection ends
// after the answer, nothing of it reaches the upstream (the mock's request counter), and the
// gateway goes on serving. Each request is written as raw bytes.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>

#include "support/bodies.hpp"
#include "support/documented_routes.hpp"
#include "support/gateway_fixture.hpp"
#include "support/hardening.hpp"

using namespace test_support;
using Catch::Matchers::Contains;

namespace {

using std::chrono::milliseconds;

/// How long a refused request may take to be answered and its connection closed. Loopback
/// answers take a millisecond; a gateway that waits for more bytes instead hits this.
constexpr milliseconds kRefusalDeadline{1500};

const std::string kBody = R"({"active": true})";  // a valid BlockStatus, 16 bytes
const std::string kChunkedBody = "10\r\n" + kBody + "\r\n0\r\n\r\n";

/// The PATCH request line and the headers every PATCH here needs, without framing headers and
/// without the blank line.
std::string patch_head(const std::string& version = "HTTP/1.1") {
    return std::string("PATCH ") + kPatchTarget + " " + version +
           "\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\nContent-Type: application/json\r\n";
}

/// A GET of the blocks route; `extra` header lines go before the blank line.
std::string get_blocks(const std::string& extra = "", const std::string& host_line = "Host: gateway\r\n") {
    return std::string("GET ") + kBlocksTarget + " HTTP/1.1\r\n" + host_line +
           "x-auth-roles: API_KEY\r\n" + extra + "\r\n";
}

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

/// Control bytes made visible, for failure messages.
std::string printable(std::string_view bytes, std::size_t limit = 800) {
    std::string out;
    for (const char c : bytes.substr(0, limit)) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\r') {
            out += "\\r";
        } else if (c == '\n') {
            out += "\\n\n";
        } else if (u < 0x20 || u >= 0x7f) {
            static const char* hex = "0123456789abcdef";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += c;
        }
    }
    if (bytes.size() > limit) out += "...";
    return out;
}

/// The response tells the client that the connection ends: `Connection: close` (HTTP/1.1),
/// or at least no keep-alive (HTTP/1.0, where close is the default).
void check_announces_close(const HttpResponse& response) {
    INFO("response:\n" << response.describe());
    const std::string connection = lower(response.header("Connection").value_or(""));
    if (response.version == 11) {
        CHECK(connection == "close");
    } else {
        CHECK(connection.find("keep-alive") == std::string::npos);
    }
}

/// After a refusal: a normal GET on a new connection is served, and that GET is the only
/// request the mock saw since the counter was reset (the refused one was never forwarded).
void check_still_serving_and_nothing_forwarded(const GatewayFixture& fixture) {
    auto client = fixture.client(milliseconds(2000));
    const auto response = client.send("GET", kBlocksTarget, api_key());
    INFO("follow-up GET on a new connection:\n" << response.describe());
    CHECK(response.status == 200);
    CHECK_THAT(response.body, Contains("\"subscription_id\":214748364"));
    CHECK(mock_request_count(fixture.mock_port()) == 1);
}

struct Expected {
    int status = 400;
    int code = 40000;
    const char* status_name = "BAD_REQUEST";
};

/// Writes `bytes` on a new connection and checks the whole refusal: one error answer with the
/// expected status and code, Connection: close, the connection closed by the gateway right
/// after, nothing forwarded, and the gateway still serving. Answers the error body.
ErrorBody check_refused(const GatewayFixture& fixture, const std::string& bytes,
                        Expected expected = {}) {
    INFO("request bytes:\n" << printable(bytes));
    reset_mock_request_count(fixture.mock_port());
    const auto drained = send_raw(fixture.port(), bytes, kRefusalDeadline);
    INFO("bytes received:\n" << printable(drained.bytes));
    CHECK(drained.closed);
    CHECK_FALSE(drained.timed_out);
    const auto responses = parse_responses(drained.bytes);
    CHECK(responses.size() == 1);
    ErrorBody error;
    if (!responses.empty()) {
        error = EXPECT_ERROR(responses.front(), expected.status, expected.code, expected.status_name);
        check_announces_close(responses.front());
    }
    check_still_serving_and_nothing_forwarded(fixture);
    return error;
}

struct Case {
    const char* what;
    std::string bytes;
};

}  // namespace

TEST_CASE("framing: Content-Length together with Transfer-Encoding: chunked is refused in either order") {
    GatewayFixture fixture;
    const std::vector<Case> cases = {
        {"Content-Length first",
         patch_head() + "Content-Length: 16\r\nTransfer-Encoding: chunked\r\n\r\n" + kChunkedBody},
        {"Transfer-Encoding first",
         patch_head() + "Transfer-Encoding: chunked\r\nContent-Length: 16\r\n\r\n" + kChunkedBody},
        {"Content-Length matching the chunked bytes",
         patch_head() + "Transfer-Encoding: chunked\r\nContent-Length: " +
             std::to_string(kChunkedBody.size()) + "\r\n\r\n" + kChunkedBody},
    };
    for (const auto& c : cases) {
        INFO("case: " << c.what);
        check_refused(fixture, c.bytes);
    }
}

TEST_CASE("framing: more than one Content-Length, or one that is not plain decimal digits, is refused") {
    GatewayFixture fixture;
    const auto with_length = [](const std::string& lines) {
        return patch_head() + lines + "\r\n" + kBody;
    };
    const std::vector<Case> cases = {
        {"two different values", with_length("Content-Length: 16\r\nContent-Length: 5\r\n")},
        {"two identical values", with_length("Content-Length: 16\r\nContent-Length: 16\r\n")},
        {"a list of identical values", with_length("Content-Length: 16, 16\r\n")},
        {"a plus sign", with_length("Content-Length: +16\r\n")},
        {"two numbers separated by a space", with_length("Content-Length: 16 16\r\n")},
        {"hexadecimal", with_length("Content-Length: 0x10\r\n")},
        {"a letter before the digits", with_length("Content-Length: a16\r\n")},
    };
    for (const auto& c : cases) {
        INFO("case: " << c.what);
        check_refused(fixture, c.bytes);
    }
}

TEST_CASE("framing: Transfer-Encoding other than exactly one chunked, or in HTTP/1.0, is refused") {
    GatewayFixture fixture;
    const auto with_te = [](const std::string& lines, const std::string& version = "HTTP/1.1") {
        return patch_head(version) + lines + "\r\n" + kChunkedBody;
    };
    const std::vector<Case> cases = {
        {"xchunked", with_te("Transfer-Encoding: xchunked\r\n")},
        {"chunked, identity", with_te("Transfer-Encoding: chunked, identity\r\n")},
        {",chunked", with_te("Transfer-Encoding: ,chunked\r\n")},
        {"identity, chunked", with_te("Transfer-Encoding: identity, chunked\r\n")},
        {"two Transfer-Encoding: chunked lines",
         with_te("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n")},
        {"chunked in an HTTP/1.0 request", with_te("Transfer-Encoding: chunked\r\n", "HTTP/1.0")},
    };
    for (const auto& c : cases) {
        INFO("case: " << c.what);
        check_refused(fixture, c.bytes);
    }
}

TEST_CASE("framing: a chunk size that is not hex or overflows is refused") {
    GatewayFixture fixture;
    const std::string head = patch_head() + "Transfer-Encoding: chunked\r\n\r\n";
    const std::vector<Case> cases = {
        {"zz", head + "zz\r\n" + kBody + "\r\n0\r\n\r\n"},
        {"ffffffffffffffffffff (80 bits)", head + "ffffffffffffffffffff\r\n" + kBody + "\r\n0\r\n\r\n"},
    };
    for (const auto& c : cases) {
        INFO("case: " << c.what);
        check_refused(fixture, c.bytes);
    }
}

TEST_CASE("framing: obs-fold lines, NUL, bare CR and bare LF in the head are refused") {
    GatewayFixture fixture;
    const std::vector<Case> cases = {
        {"obs-fold continuation line", get_blocks("X-A: b\r\n c\r\n")},
        {"NUL in a header value", get_blocks(std::string("X-A: b") + '\0' + "c\r\n")},
        {"bare CR in a header value", get_blocks("X-A: b\rc\r\n")},
        {"bare LF in a header value", get_blocks("X-A: b\nX-B: c\r\n")},
        {"bare LF line endings throughout",
         std::string("GET ") + kBlocksTarget + " HTTP/1.1\nHost: gateway\nx-auth-roles: API_KEY\n\n"},
    };
    for (const auto& c : cases) {
        INFO("case: " << c.what);
        check_refused(fixture, c.bytes);
    }
}

TEST_CASE("framing: whitespace before a header's colon or an invalid header name is refused") {
    GatewayFixture fixture;
    const std::vector<Case> cases = {
        {"Host : gateway", get_blocks("", "Host : gateway\r\n")},
        {"X-Foo : bar, with a valid Host", get_blocks("X-Foo : bar\r\n")},
        {"Ho(st: a, with a valid Host", get_blocks("Ho(st: a\r\n")},
    };
    for (const auto& c : cases) {
        INFO("case: " << c.what);
        check_refused(fixture, c.bytes);
    }
}

TEST_CASE("framing: an HTTP/1.1 request without Host, or with two Host headers, is refused") {
    GatewayFixture fixture;
    const std::vector<Case> cases = {
        {"no Host", get_blocks("", "")},
        {"two different Host headers", get_blocks("", "Host: gateway\r\nHost: other.example\r\n")},
        {"two identical Host headers", get_blocks("", "Host: gateway\r\nHost: gateway\r\n")},
    };
    for (const auto& c : cases) {
        INFO("case: " << c.what);
        check_refused(fixture, c.bytes);
    }
}

TEST_CASE("framing: an absolute-form target naming another host than Host is refused") {
    GatewayFixture fixture;
    check_refused(fixture, std::string("GET http://evil.example") + kBlocksTarget +
                               " HTTP/1.1\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n\r\n");
}

TEST_CASE("framing: an absolute-form target naming the Host header's own value is served, forwarded in origin form") {
    GatewayFixture fixture;
    reset_mock_request_count(fixture.mock_port());
    RawConnection connection(fixture.port());
    const auto deadline = deadline_in(milliseconds(3000));
    REQUIRE(connection.write(std::string("GET http://gateway") + kBlocksTarget +
                                 " HTTP/1.1\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n"
                                 "x-mock-echo: 1\r\n\r\n",
                             deadline));
    const auto response = connection.read_response(deadline);
    REQUIRE(response);
    INFO(response->describe());
    CHECK(response->status == 200);
    const auto echo = parse_echo(response->body);
    REQUIRE(echo.valid);
    CHECK(echo.method == "GET");
    CHECK(echo.target == kBlocksTarget);
    CHECK(mock_request_count(fixture.mock_port()) == 1);
}

TEST_CASE("framing: methods are case-sensitive: a lower-case get is refused with 400 saying so") {
    GatewayFixture fixture;
    const auto error = check_refused(fixture, std::string("get ") + kBlocksTarget +
                                                  " HTTP/1.1\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n\r\n");
    const std::string detail = lower(error.detail);
    INFO("detailMsg: " << error.detail);
    CHECK_THAT(detail, Contains("case") && Contains("sensitive"));
}

TEST_CASE("framing: CONNECT with an authority target is refused with 400") {
    GatewayFixture fixture;
    check_refused(fixture,
                  "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nx-auth-roles: API_KEY\r\n\r\n");
}

TEST_CASE("framing: an unknown method FOO on a documented path is 405 with Allow, not forwarded") {
    GatewayFixture fixture;
    reset_mock_request_count(fixture.mock_port());
    RawConnection connection(fixture.port());
    const auto deadline = deadline_in(milliseconds(3000));
    REQUIRE(connection.write(std::string("FOO ") + kBlocksTarget +
                                 " HTTP/1.1\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n\r\n",
                             deadline));
    const auto response = connection.read_response(deadline);
    REQUIRE(response);
    EXPECT_ERROR(*response, 405, 40501, "METHOD_NOT_ALLOWED");
    CHECK_THAT(response->header("Allow").value_or("<none>"), Contains("GET"));
    check_still_serving_and_nothing_forwarded(fixture);
}

TEST_CASE("framing: HTTP versions other than 1.0 and 1.1 are refused") {
    GatewayFixture fixture;
    for (const char* version : {"HTTP/2.0", "HTTP/1.2"}) {
        INFO("version: " << version);
        check_refused(fixture, std::string("GET ") + kBlocksTarget + " " + version +
                                   "\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n\r\n");
    }
}

TEST_CASE("framing: TLS ClientHello bytes get a 4xx or a close at once, never a hang, and the gateway keeps serving") {
    GatewayFixture fixture;
    reset_mock_request_count(fixture.mock_port());
    // Record header (handshake, TLS 1.0, length 0x200), handshake header (ClientHello, length
    // 0x1fc), client version TLS 1.2, then zeros in place of random, ciphers and extensions.
    std::string hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
    hello.append(0x200 + 5 - hello.size(), '\0');
    const auto started = Clock::now();
    const auto drained = send_raw(fixture.port(), hello, kRefusalDeadline);
    INFO("bytes received:\n" << printable(drained.bytes) << "\nafter " << elapsed_ms(started) << " ms");
    CHECK(drained.closed);
    CHECK_FALSE(drained.timed_out);
    if (!drained.bytes.empty()) {
        const auto response = parse_response(drained.bytes);
        REQUIRE(response);
        CHECK(response->status >= 400);
        CHECK(response->status < 500);
    }
    check_still_serving_and_nothing_forwarded(fixture);
}

TEST_CASE("framing: a request line over 8 KiB is refused with 414 code 41401") {
    GatewayFixture fixture;
    const std::string target = "/v2/orgs/" + std::string(9000, 'a') + "/subscriptions/1/blocks";
    check_refused(fixture,
                  "GET " + target + " HTTP/1.1\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n\r\n",
                  {414, 41401, "URI_TOO_LONG"});
}

TEST_CASE("framing: a head over the default max_header_bytes (one 20 KiB header) is refused with 431 code 43101") {
    GatewayFixture fixture;
    check_refused(fixture, get_blocks("X-Big: " + std::string(20 * 1024, 'a') + "\r\n"),
                  {431, 43101, "REQUEST_HEADER_FIELDS_TOO_LARGE"});
}

TEST_CASE("framing: limits.max_header_bytes 4096 refuses a 5000-byte header with 431 and serves a 2000-byte one") {
    TempDir dir;
    GatewayOptions options;
    options.config_path = dir.write("routes.yaml", routes_yaml_with_limits("  max_header_bytes: 4096\n"));
    GatewayFixture fixture(options);
    check_refused(fixture, get_blocks("X-Big: " + std::string(5000, 'a') + "\r\n"),
                  {431, 43101, "REQUEST_HEADER_FIELDS_TOO_LARGE"});
    auto client = fixture.client(milliseconds(2000));
    const auto response = client.send("GET", kBlocksTarget, api_key({{"X-Big", std::string(2000, 'a')}}));
    INFO(response.describe());
    CHECK(response.status == 200);
}

TEST_CASE("framing: three different pipelined requests written at once get three answers in order") {
    GatewayFixture fixture;
    reset_mock_request_count(fixture.mock_port());
    RawConnection connection(fixture.port());
    const auto deadline = deadline_in(milliseconds(3000));
    const std::string requests =
        "GET /v2/orgs/telco/subscriptions/111/blocks HTTP/1.1\r\nHost: gateway\r\n"
        "x-auth-roles: API_KEY\r\n\r\n" +
        patch_head() + "Content-Length: 16\r\n\r\n" + kBody +
        "GET /v2/orgs/telco/penalties/5?reason=cancel HTTP/1.1\r\nHost: gateway\r\n"
        "x-auth-roles: API_KEY\r\n\r\n";
    REQUIRE(connection.write(requests, deadline));
    const auto first = connection.read_response(deadline);
    const auto second = connection.read_response(deadline);
    const auto third = connection.read_response(deadline);
    REQUIRE(first);
    REQUIRE(second);
    REQUIRE(third);
    INFO("first:\n" << first->describe() << "\nsecond:\n" << second->describe() << "\nthird:\n"
                    << third->describe());
    CHECK(first->status == 200);
    CHECK_THAT(first->body, Contains("\"subscription_id\":111"));
    CHECK(second->status == 201);
    CHECK(second->body.empty());
    CHECK(third->status == 200);
    CHECK_THAT(third->body, Contains("\"account_id\":5"));
    CHECK(mock_request_count(fixture.mock_port()) == 3);
}

TEST_CASE("framing: a valid request pipelined after a refused one is not answered; the connection closes after the 400") {
    GatewayFixture fixture;
    const std::vector<Case> cases = {
        {"after two Host headers",
         get_blocks("", "Host: gateway\r\nHost: other.example\r\n") + get_blocks()},
        {"after Content-Length with Transfer-Encoding (the smuggling shape)",
         patch_head() + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + get_blocks()},
    };
    for (const auto& c : cases) {
        INFO("case: " << c.what);
        check_refused(fixture, c.bytes);
    }
}

TEST_CASE("framing: a quoted chunk extension holding LF, NUL, DEL or another control byte is refused") {
    GatewayFixture fixture;
    const std::string head = patch_head() + "Transfer-Encoding: chunked\r\n\r\n";
    const auto with_extension = [&](const std::string& ext) {
        return head + "10;" + ext + "\r\n" + kBody + "\r\n0\r\n\r\n";
    };
    const std::vector<Case> cases = {
        {"LF in a quoted value", with_extension("a=\"x\ny\"")},
        {"NUL in a quoted value", with_extension(std::string("a=\"x") + '\0' + "y\"")},
        {"DEL in a quoted value", with_extension("a=\"x\x7fy\"")},
        {"0x01 in a quoted value", with_extension("a=\"x\x01y\"")},
        {"ESC after a backslash", with_extension("a=\"x\\\x1by\"")},
        {"LF in the last chunk's extension", head + "10\r\n" + kBody + "\r\n0;a=\"\n\"\r\n\r\n"},
    };
    for (const auto& c : cases) {
        INFO("case: " << c.what);
        const auto error = check_refused(fixture, c.bytes);
        CHECK_THAT(error.detail, Contains("chunk extension") && Contains("control byte"));
    }
}

TEST_CASE("framing: valid chunk extensions (tokens, quoted strings with SP and HTAB) are accepted") {
    GatewayFixture fixture;
    const std::string head = patch_head() + "Transfer-Encoding: chunked\r\n\r\n";
    for (const std::string ext : {";a", ";a=b", ";a=\"x y\"", ";a=\"x\ty\";b=c"}) {
        INFO("extension: " << printable(ext));
        const auto drained =
            send_raw(fixture.port(), head + "10" + ext + "\r\n" + kBody + "\r\n0\r\n\r\n", kRefusalDeadline);
        const auto responses = parse_responses(drained.bytes);
        REQUIRE(responses.size() == 1);
        CHECK(responses.front().status == 201);
    }
}

TEST_CASE("framing: a Host that is not RFC 3986's host and optional port is refused: a@b, x/y, x y, x, y, an unclosed IPv6 literal, x:abc") {
    GatewayFixture fixture;
    for (const std::string host : {"a@b", "x/y", "x y", "x, y", "[::1", "x:abc", "a?b", "gateway:80:80"}) {
        INFO("Host: " << host);
        const auto error = check_refused(fixture, get_blocks("", "Host: " + host + "\r\n"));
        CHECK_THAT(error.detail, Contains("header Host: expected host[:port]") && Contains(host));
    }
}

TEST_CASE("framing: valid Host forms are served: a name with a port, IPv4, IPv6 literal") {
    GatewayFixture fixture;
    for (const std::string host : {"gateway:8080", "127.0.0.1", "[::1]:8080", "api.example.com"}) {
        INFO("Host: " << host);
        const auto drained = send_raw(fixture.port(),
                                      get_blocks("Connection: close\r\n", "Host: " + host + "\r\n"),
                                      kRefusalDeadline);
        const auto responses = parse_responses(drained.bytes);
        REQUIRE(responses.size() == 1);
        CHECK(responses.front().status == 200);
    }
}
