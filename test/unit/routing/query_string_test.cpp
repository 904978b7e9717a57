#include <catch2/catch.hpp>

#include "routing/percent_decoding.hpp"
#include "routing/query_string.hpp"

using namespace gateway;

TEST_CASE("percent_decode decodes once and refuses broken escapes") {
    CHECK(percent_decode("a%20b", false).value() == "a b");
    CHECK(percent_decode("a%2520b", false).value() == "a%20b");
    CHECK(percent_decode("a+b", false).value() == "a+b");
    CHECK(percent_decode("a+b", true).value() == "a b");
    CHECK(percent_decode("%e9", false).value() == "\xe9");
    CHECK_FALSE(percent_decode("%", false));
    CHECK_FALSE(percent_decode("%4", false));
    CHECK_FALSE(percent_decode("%zz", false));
}

TEST_CASE("query string splits on & and keeps order and repeats") {
    const auto params = parse_query("penalties=1&penalties=2&&flag&x=a%26b", nullptr);
    REQUIRE(params);
    REQUIRE(params->size() == 4);
    CHECK((*params)[0].name == "penalties");
    CHECK((*params)[1].value == "2");
    CHECK((*params)[2].name == "flag");
    CHECK((*params)[2].value.empty());
    CHECK((*params)[3].value == "a&b");
}

TEST_CASE("the seed's doubled query string stays one value") {
    const auto params = parse_query("reason='unsubscribe'?reason=unsubscribe", nullptr);
    REQUIRE(params);
    REQUIRE(params->size() == 1);
    CHECK((*params)[0].value == "'unsubscribe'?reason=unsubscribe");
}

TEST_CASE("query string with a broken escape names the pair") {
    std::string bad;
    CHECK_FALSE(parse_query("a=1&b=%zz", &bad));
    CHECK(bad == "b=%zz");
}
