#include <catch2/catch.hpp>

#include "routing/path_template.hpp"

using namespace gateway;

namespace {
PathTemplate parse_ok(std::string_view text) {
    auto parsed = PathTemplate::parse(text);
    REQUIRE(std::holds_alternative<PathTemplate>(parsed));
    return std::get<PathTemplate>(parsed);
}
PathTemplate::ParseError parse_error(std::string_view text) {
    auto parsed = PathTemplate::parse(text);
    REQUIRE(std::holds_alternative<PathTemplate::ParseError>(parsed));
    return std::get<PathTemplate::ParseError>(parsed);
}
}  // namespace

TEST_CASE("template splits into literal and typed parameter segments") {
    const auto t = parse_ok("/v2/orgs/{orgId}/subscriptions/{subscriptionId:int64}/blocks");
    REQUIRE(t.segments().size() == 6);
    CHECK_FALSE(t.segments()[0].is_param);
    CHECK(t.segments()[0].text == "v2");
    CHECK(t.segments()[2].is_param);
    CHECK(t.segments()[2].text == "orgId");
    CHECK(t.segments()[2].kind == ParamKind::string);
    CHECK_FALSE(t.segments()[3].is_param);
    CHECK(t.segments()[4].kind == ParamKind::int64);
    CHECK(t.param_names() == std::vector<std::string>{"orgId", "subscriptionId"});
    CHECK(t.shape() == "/v2/orgs/{}/subscriptions/{}/blocks");
}

TEST_CASE("template errors point at the offending byte") {
    CHECK(parse_error("v2/orgs").offset == 0);
    CHECK(parse_error("/v2//orgs").message == "empty path segment ('//')");
    CHECK(parse_error("/v2/orgs/").message == "path must not end with '/'");
    const auto partial = parse_error("/v2/id-{x}");
    CHECK(partial.offset == 7);
    CHECK(partial.message == "a parameter must be a whole segment: write '{name}' or '{name:type}' "
                             "between two '/', got 'id-{x}'");
    CHECK(parse_error("/v2/{x}-id").message.find("a parameter must be a whole segment") == 0);
    const auto unknown = parse_error("/v2/{x:integer}");
    CHECK(unknown.offset == 7);
    CHECK(unknown.message.find("unknown path parameter type 'integer'") != std::string::npos);
    CHECK(parse_error("/v2/{x}/{x}").message == "parameter 'x' appears twice in the path");
    CHECK(parse_error("/v2/{1x}").message.find("invalid parameter name") == 0);
    CHECK(parse_error("/v2/a%20b").message.find("not allowed") != std::string::npos);
    CHECK(parse_error("/v2/{x:int64_array}").message.find("unknown path parameter type") == 0);
}

TEST_CASE("expand fills a rewrite template with raw values") {
    const auto rewrite = parse_ok("/internal/{b}/x/{a}");
    CHECK(rewrite.expand({"1", "two"}, {"a", "b"}) == "/internal/two/x/1");
}
