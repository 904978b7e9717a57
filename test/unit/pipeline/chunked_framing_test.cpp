#include <catch2/catch.hpp>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "pipeline/chunked_framing.hpp"

using namespace gateway;
namespace http = boost::beast::http;

namespace {

/// Parses `raw` as one request with the extension check attached, as the session does.
struct Parsed {
    boost::system::error_code ec;
    std::optional<Error> refusal;
    http::request<http::string_body> request;
    std::optional<HeadFields> head_fields;
};

Parsed parse_chunked(const std::string& raw) {
    http::request_parser<http::string_body> parser;
    ChunkExtensionCheck check;
    check.attach(parser);
    Parsed parsed;
    boost::asio::const_buffer input(raw.data(), raw.size());
    parser.eager(false);
    const std::size_t used = parser.put(input, parsed.ec);
    REQUIRE_FALSE(parsed.ec);
    parsed.head_fields.emplace(parser.get());
    parser.eager(true);
    input += used;
    parser.put(input, parsed.ec);
    parsed.refusal = check.refusal();
    if (!parsed.ec) {
        REQUIRE(parser.is_done());
        parsed.request = parser.release();
    }
    return parsed;
}

const std::string kHead = "POST /a HTTP/1.1\r\nHost: x\r\nx-auth-roles: API_KEY\r\nTransfer-Encoding: chunked\r\n\r\n";

}  // namespace

TEST_CASE("chunk extensions: control bytes in a quoted extension value are refused, naming the byte") {
    for (const auto& [byte, name] : std::vector<std::pair<std::string, std::string>>{
             {"\n", "0x0A"}, {std::string(1, '\0'), "0x00"}, {"\x7f", "0x7F"}, {"\x01", "0x01"},
             {"\r", "0x0D"}}) {
        CAPTURE(name);
        const std::string ext = ";name=\"va" + byte + "lue\"";
        const auto problem = check_chunk_extensions(ext);
        REQUIRE(problem.has_value());
        CHECK(problem->errc == Errc::malformed_request);
        CHECK(problem->detail.find("control byte " + name + " at offset 9") != std::string::npos);
    }
}

TEST_CASE("chunk extensions: tokens, quoted strings with SP, HTAB, escapes and obs-text pass") {
    for (const std::string ext : {"", ";a", ";a=b", ";a=\"b c\"", ";a=\"b\\\"c\"", ";a=\"\tb\"",
                                  ";a=\"caf\xc3\xa9\"", " ;a=b ; c"}) {
        CAPTURE(ext);
        CHECK_FALSE(check_chunk_extensions(ext).has_value());
    }
}

TEST_CASE("chunk extensions: the check stops Beast's parse of a body whose extension holds LF, NUL or DEL") {
    for (const std::string& bad : {std::string("\n"), std::string(1, '\0'), std::string("\x7f")}) {
        const auto parsed = parse_chunked(kHead + "3;e=\"a" + bad + "b\"\r\nabc\r\n0\r\n\r\n");
        CHECK(parsed.ec == http::error::bad_chunk_extension);
        REQUIRE(parsed.refusal.has_value());
        CHECK(parsed.refusal->detail.find("chunk extension") != std::string::npos);
    }
    // The last chunk's extensions are checked too.
    const auto last = parse_chunked(kHead + "3\r\nabc\r\n0;e=\"\x01\"\r\n\r\n");
    CHECK(last.ec == http::error::bad_chunk_extension);
    CHECK(last.refusal.has_value());
    const auto fine = parse_chunked(kHead + "3;e=\"a b\"\r\nabc\r\n0\r\n\r\n");
    CHECK_FALSE(fine.ec);
    CHECK(fine.request.body() == "abc");
}

TEST_CASE("trailers: fields after the last chunk are dropped, the head's fields stay in order") {
    auto parsed = parse_chunked(kHead + "3\r\nabc\r\n0\r\nx-auth-roles: ADMIN\r\nHost: evil\r\n"
                                        "Content-Type: text/plain\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n");
    REQUIRE_FALSE(parsed.ec);
    // What Beast does: the trailers are merged in, each next to a head field of its name.
    CHECK(count_fields(parsed.request) == 7);
    CHECK(parsed.request.count("x-auth-roles") == 2);
    CHECK(parsed.head_fields->drop_others(parsed.request) == 4);
    REQUIRE(count_fields(parsed.request) == 3);
    std::vector<std::string> names;
    for (const auto& field : parsed.request) names.emplace_back(field.name_string());
    CHECK(names == std::vector<std::string>{"Host", "x-auth-roles", "Transfer-Encoding"});
    CHECK(parsed.request[http::field::host] == "x");
    CHECK(parsed.request["x-auth-roles"] == "API_KEY");
    CHECK(parsed.request.count(http::field::content_type) == 0);
    CHECK(parsed.request.count("X-Forwarded-For") == 0);
    CHECK(parsed.head_fields->drop_others(parsed.request) == 0);
}

TEST_CASE("chunked overflow: a trailer section is 431, a chunk-size line 400, both naming the bound") {
    const Error trailer = chunked_overflow_error("0\r\nx-pad: aaaaaaaa", 8192);
    CHECK(trailer.errc == Errc::header_too_large);
    CHECK(trailer.detail == "chunked body: the trailer section is over 8192 bytes");
    CHECK(chunked_overflow_error("\r\n000;a=b\r\nx: y", 100).errc == Errc::header_too_large);
    const Error line = chunked_overflow_error("3;aaaaaaaaaaaaaaaaaaaa", 100);
    CHECK(line.errc == Errc::malformed_request);
    CHECK(line.detail == "chunked body: a chunk-size line is over 100 bytes");
    CHECK(chunked_overflow_error("0;aaaaaaaaaaaaaaaaaaaaaaaa", 100).errc == Errc::malformed_request);
    CHECK(chunked_overflow_error("10\r\n", 100).errc == Errc::malformed_request);
}
