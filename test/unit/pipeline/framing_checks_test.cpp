#include <catch2/catch.hpp>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "pipeline/framing_checks.hpp"

using namespace gateway;
namespace http = boost::beast::http;

namespace {

// Parses a request head the way the session does and runs the framing checks on it.
Result<std::string> framing_of(const std::string& raw) {
    http::request_parser<http::string_body> parser;
    parser.eager(false);
    boost::system::error_code ec;
    parser.put(boost::asio::buffer(raw), ec);
    REQUIRE_FALSE(ec);
    REQUIRE(parser.is_header_done());
    auto checked = check_framing(parser.get());
    if (!checked) return std::move(checked).error();
    return std::string(*checked);
}

std::string refusal(const std::string& raw) {
    auto result = framing_of(raw);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().errc == Errc::malformed_request);
    return result.error().detail;
}

}  // namespace

TEST_CASE("an ordinary HTTP/1.1 head passes with its origin-form target") {
    CHECK(*framing_of("GET /a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n") == "/a?b=1");
    CHECK(*framing_of("GET /a HTTP/1.0\r\n\r\n") == "/a");
    CHECK(*framing_of("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n") == "/a");
    CHECK(*framing_of("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: CHUNKED\r\n\r\n") == "/a");
}

TEST_CASE("Host must be there exactly once in HTTP/1.1") {
    CHECK(refusal("GET /a HTTP/1.1\r\n\r\n") == "header Host: required in HTTP/1.1");
    CHECK(refusal("GET /a HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n") == "header Host: given 2 times");
    refusal("GET /a HTTP/1.0\r\nHost: x\r\nHost: y\r\n\r\n");
}

TEST_CASE("Content-Length is one field of digits") {
    CHECK(refusal("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n") ==
          "header Content-Length: given 2 times");
    CHECK(refusal("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\n") ==
          "header Content-Length: expected digits, got \"3, 3\"");
}

TEST_CASE("Transfer-Encoding is exactly chunked, in HTTP/1.1 only") {
    for (const char* value : {"xchunked", "chunked, identity", ",chunked", "identity, chunked", "gzip"}) {
        CAPTURE(value);
        const std::string raw = std::string("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ") +
                                value + "\r\n\r\n";
        CHECK(refusal(raw).find("only \"chunked\" is accepted") != std::string::npos);
    }
    CHECK(refusal("POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") ==
          "header Transfer-Encoding: not allowed in HTTP/1.0");
}

TEST_CASE("methods are upper case") {
    CHECK(refusal("get /a HTTP/1.1\r\nHost: x\r\n\r\n") ==
          "method \"get\": methods are case-sensitive and upper case");
}

TEST_CASE("targets are paths, or absolute URLs naming the Host") {
    CHECK(*framing_of("GET http://gw:8080/a?b HTTP/1.1\r\nHost: gw:8080\r\n\r\n") == "/a?b");
    CHECK(*framing_of("GET HTTP://GW:8080 HTTP/1.1\r\nHost: gw:8080\r\n\r\n") == "/");
    CHECK(refusal("GET http://evil/a HTTP/1.1\r\nHost: gw\r\n\r\n").find("names another host") !=
          std::string::npos);
    CHECK(refusal("CONNECT evil:443 HTTP/1.1\r\nHost: evil:443\r\n\r\n")
              .find("request target must be a path") != std::string::npos);
    refusal("OPTIONS * HTTP/1.1\r\nHost: gw\r\n\r\n");
}

TEST_CASE("the head ends at its blank line, with CRLF or bare LF") {
    CHECK(find_head_end("GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY") == 27u);
    CHECK(find_head_end("GET / HTTP/1.1\nHost: x\n\nBODY") == 24u);
    CHECK_FALSE(find_head_end("GET / HTTP/1.1\r\nHost: x\r\n"));
    CHECK_FALSE(find_head_end("GET / HTTP/1.1\r\nHost: x\r\n\r"));
    CHECK_FALSE(find_head_end(""));
}

TEST_CASE("raw head inspection catches long request lines and obs-fold") {
    CHECK_FALSE(inspect_raw_head("GET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n\r\n"));
    const auto folded = inspect_raw_head("GET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n");
    REQUIRE(folded);
    CHECK(folded->detail.find("obs-fold") != std::string::npos);
    REQUIRE(inspect_raw_head("GET / HTTP/1.1\r\nX-A: b\r\n\tc\r\n\r\n"));
    const std::string long_line = "GET /" + std::string(kMaxRequestLine, 'a');
    const auto too_long = inspect_raw_head(long_line);  // even before the line ends
    REQUIRE(too_long);
    CHECK(too_long->errc == Errc::uri_too_long);
    // Body bytes after the head are not the head's business.
    CHECK_FALSE(inspect_raw_head("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n\n x"));
    CHECK_FALSE(inspect_raw_head("POST / HTTP/1.1\nContent-Length: 3\n\n\n x"));  // bare LFs
    // A head still arriving: a fold in its last bytes is seen already.
    REQUIRE(inspect_raw_head("GET / HTTP/1.1\r\nHost: x\r\n "));
    CHECK_FALSE(inspect_raw_head("GET / HTTP/1.1\r\nHost: x\r\n"));
    CHECK_FALSE(inspect_raw_head("GET / HTTP/1.1\r\nHost: x\r\n\rX: y\r\n\r\n"));
}

TEST_CASE("bytes that cannot start an HTTP request are refused before a line ends") {
    CHECK_FALSE(inspect_raw_head(""));
    CHECK_FALSE(inspect_raw_head("GE"));
    CHECK_FALSE(inspect_raw_head("PATCH /a"));
    const auto tls = inspect_raw_head(std::string("\x16\x03\x01\x02\x00", 5));
    REQUIRE(tls);
    CHECK(tls->detail.find("not an HTTP/1.x request") == 0);
    CHECK(inspect_raw_head(" GET / HTTP/1.1"));
    CHECK(inspect_raw_head(std::string(40, 'A')));
    CHECK(inspect_raw_head("{\"json\": 1}"));
}

TEST_CASE("Host is RFC 3986 host with an optional port: invalid values are refused with what is wrong") {
    const std::vector<std::pair<std::string, std::string>> invalid = {
        {"a@b", "'@' is not allowed in a host name"},
        {"x/y", "'/' is not allowed in a host name"},
        {"x y", "byte 0x20 is not allowed in a host name"},
        {"x, y", "byte 0x20 is not allowed in a host name"},
        {"[::1", "the IP literal's '[' is never closed"},
        {"x:abc", "the port \"abc\" is not digits"},
        {"x:80:81", "the port \"80:81\" is not digits"},
        {"[::1]x", "'x' after the IP literal, where only \":port\" may follow"},
        {"[1.2.3]", "[1.2.3] is not an IPv6 address"},
        {"[vz.x]", "[vz.x] is not a valid IPvFuture literal"},
        {"a%2", "'%' not followed by two hex digits"},
        {"a?b", "'?' is not allowed in a host name"},
        {"a#b", "'#' is not allowed in a host name"},
    };
    for (const auto& [value, why] : invalid) {
        CAPTURE(value);
        const std::string detail = refusal("GET /a HTTP/1.1\r\nHost: " + value + "\r\n\r\n");
        CHECK(detail.find("header Host: expected host[:port] (RFC 3986), got \"" + value + "\"") == 0);
        CHECK(detail.find(why) != std::string::npos);
        CHECK(host_field_problem(value).has_value());
    }
    // HTTP/1.0 too: a Host given is checked the same.
    refusal("GET /a HTTP/1.0\r\nHost: a@b\r\n\r\n");
}

TEST_CASE("Host accepts every valid form: names, IPv4, IPv6 and IPvFuture literals, ports, empty") {
    for (const char* value : {"api.example.com", "api.example.com:8443", "127.0.0.1", "127.0.0.1:80",
                              "[::1]", "[::1]:8080", "[2001:db8::7]", "[v1.fe80::a+en1]",
                              "xn--bcher-kva.example", "a%41b", "host:", "sub_delims!$&'()*+,;=",
                              "localhost", ""}) {
        CAPTURE(value);
        CHECK_FALSE(host_field_problem(value).has_value());
    }
    CHECK(*framing_of("GET /a HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n") == "/a");
    CHECK(*framing_of("GET /a HTTP/1.1\r\nHost: \r\n\r\n") == "/a");
}
