#include <catch2/catch.hpp>

#include <set>

#include "core/errc.hpp"
#include "core/error_message.hpp"
#include "core/text.hpp"

using namespace gateway;

TEST_CASE("every Errc has a unique code whose first three digits are its HTTP status") {
    std::set<int> codes;
    for (int i = 0; i <= static_cast<int>(Errc::rate_limit_unavailable); ++i) {
        const ErrcInfo& row = info(static_cast<Errc>(i));
        CAPTURE(i, row.code, row.http_status);
        CHECK(codes.insert(row.code).second);
        CHECK(row.code / 100 == row.http_status);
        CHECK(row.status == status_name(row.http_status));
        CHECK_FALSE(row.message.empty());
    }
}

TEST_CASE("status names follow Spring's HttpStatus and fall back to the class") {
    CHECK(status_name(404) == "NOT_FOUND");
    CHECK(status_name(409) == "CONFLICT");
    CHECK(status_name(418) == "CLIENT_ERROR");
    CHECK(status_name(599) == "SERVER_ERROR");
}

TEST_CASE("ErrorMessage renders the documented four fields in order") {
    const auto message = ErrorMessage::from(Error{Errc::invalid_path_param, "path blockId: x"});
    CHECK(message.http_status == 400);
    CHECK(message.to_json() ==
          R"({"code":40001,"status":"BAD_REQUEST","message":"Invalid path parameter",)"
          R"("detailMsg":"path blockId: x"})");
}

TEST_CASE("ErrorMessage escapes quotes and control characters in the detail") {
    ErrorMessage message{400, 1, "S", "M", "say \"hi\"\n\\"};
    CHECK(message.to_json() ==
          R"({"code":1,"status":"S","message":"M","detailMsg":"say \"hi\"\n\\"})");
}

TEST_CASE("quoted_excerpt escapes control bytes and invalid UTF-8 and keeps valid UTF-8") {
    CHECK(quoted_excerpt("abc") == "\"abc\"");
    CHECK(quoted_excerpt("a\r\nb") == "\"a\\x0d\\x0ab\"");
    CHECK(quoted_excerpt("caf\xc3\xa9") == "\"caf\xc3\xa9\"");
    CHECK(quoted_excerpt("bad \xff byte") == "\"bad \\xff byte\"");
    CHECK(quoted_excerpt("overlong \xc0\xaf") == "\"overlong \\xc0\\xaf\"");
    CHECK(quoted_excerpt("say \"x\"") == "\"say \\\"x\\\"\"");
}

TEST_CASE("quoted_excerpt cuts long input and never splits a character") {
    CHECK(quoted_excerpt("abcdef", 3) == "\"abc\"...");
    CHECK(quoted_excerpt("ab\xc3\xa9", 3) == "\"ab\"...");
}

TEST_CASE("iequals and trim work on ASCII") {
    CHECK(iequals("Content-Type", "content-type"));
    CHECK_FALSE(iequals("Content-Type", "content-typ"));
    CHECK(trim("  a b \t") == "a b");
    CHECK(trim("   ").empty());
}
