#include <catch2/catch.hpp>

#include <memory>

#include "config/body_schema.hpp"
#include "pipeline/body_validator.hpp"

using namespace gateway;

namespace {

BodySchema schema_from(const char* json) {
    auto document = std::make_unique<rapidjson::Document>();
    document->Parse(json);
    REQUIRE_FALSE(document->HasParseError());
    return BodySchema("test.json", std::move(document), nullptr);
}

const BodySchema& block_status() {
    static const BodySchema schema = schema_from(R"({
      "type": "object",
      "properties": {"active": {"type": "boolean"}, "reason": {"type": "string", "maxLength": 5},
                     "kind": {"enum": ["a", "b"]}, "count": {"type": "integer", "minimum": 1},
                     "tags": {"type": "array", "items": {"type": "string"}}},
      "required": ["active"],
      "additionalProperties": false})");
    return schema;
}

std::string problem(std::string_view body) {
    auto result = validate_body(block_status(), body);
    REQUIRE_FALSE(result.ok());
    return result.error().detail;
}

Errc errc_of(std::string_view body) {
    auto result = validate_body(block_status(), body);
    REQUIRE_FALSE(result.ok());
    return result.error().errc;
}

}  // namespace

TEST_CASE("a body that matches the schema passes") {
    CHECK(validate_body(block_status(), R"({"active":true})").ok());
    CHECK(validate_body(block_status(), R"( {"active":false,"reason":"lost","tags":["x"]} )").ok());
}

TEST_CASE("schema violations name the pointer, the expectation and what came") {
    CHECK(problem(R"({"active":"yes"})") == "body /active: expected boolean, got string");
    CHECK(problem(R"({"active":1})") == "body /active: expected boolean, got integer");
    CHECK(problem(R"({"reason":"x"})") == "body /: missing required property active");
    CHECK(problem(R"({"active":true,"x":1})") ==
          "body /x: unknown property \"x\" (allowed: active, reason, kind, count, tags)");
    CHECK(problem(R"({"active":true,"kind":"c"})") ==
          "body /kind: expected one of a, b, got \"c\"");
    CHECK(problem(R"({"active":true,"count":0})") == "body /count: must be >= 1, got 0");
    CHECK(problem(R"({"active":true,"reason":"too long"})") ==
          "body /reason: must have at most 5 characters, got \"too long\"");
    CHECK(problem(R"({"active":true,"tags":["a",2]})") ==
          "body /tags/1: expected string, got integer");
    CHECK(problem("[1]") == "body /: expected object, got array");
    CHECK(errc_of(R"({"active":"yes"})") == Errc::invalid_body);
}

TEST_CASE("the value quoted in a violation: numbers, booleans, null, and long strings cut at 48 bytes without splitting a character") {
    CHECK(problem(R"({"active":true,"count":-7})") == "body /count: must be >= 1, got -7");
    CHECK(problem(R"({"active":true,"count":0.5})") ==
          "body /count: expected integer, got number");
    CHECK(problem(R"({"active":true,"kind":18446744073709551615})") ==
          "body /kind: expected one of a, b, got 18446744073709551615");
    CHECK(problem(R"({"active":true,"kind":false})") == "body /kind: expected one of a, b, got false");
    CHECK(problem(R"({"active":true,"kind":null})") == "body /kind: expected one of a, b, got null");
    CHECK(problem(R"({"active":true,"kind":2.5})") ==
          "body /kind: expected one of a, b, got 2.500000");
    CHECK(problem(R"({"active":true,"kind":[1]})") == "body /kind: expected one of a, b, got array");
    // 46 ASCII bytes, then a 3-byte character that would end past byte 48, then more.
    const std::string head(46, 'x');
    CHECK(problem(R"({"active":true,"reason":")" + head + "\u20ac and more\"}") ==
          "body /reason: must have at most 5 characters, got \"" + head + "\"...");
    // Exactly 48 bytes: quoted whole, no ellipsis; 49: cut.
    CHECK(problem(R"({"active":true,"reason":")" + std::string(48, 'y') + "\"}") ==
          "body /reason: must have at most 5 characters, got \"" + std::string(48, 'y') + "\"");
    CHECK(problem(R"({"active":true,"reason":")" + std::string(49, 'y') + "\"}") ==
          "body /reason: must have at most 5 characters, got \"" + std::string(48, 'y') + "\"...");
}

TEST_CASE("the seed's single-quoted body is refused as not JSON, with a hint") {
    const auto detail = problem("{\n  'active': true,\n  'reason': 'Lo ha perdido'\n}");
    CHECK(detail.find("body not valid JSON at offset 4") == 0);
    CHECK(detail.find("single quotes") != std::string::npos);
    CHECK(errc_of("{'active': true}") == Errc::malformed_json);
}

TEST_CASE("bodies a backend could read differently are refused") {
    CHECK(problem(R"({"active":true,"active":false})").find("duplicate key \"active\"") !=
          std::string::npos);
    CHECK(problem(R"({"active":true} {"active":false})").find(
              "document root must not be followed by other values") != std::string::npos);
    CHECK(problem("{\"active\":true,\"reason\":\"\xff\"}").find("Invalid encoding") !=
          std::string::npos);
    // Non-ASCII bodies get the full UTF-8 check; ASCII ones cannot fail it.
    CHECK(validate_body(block_status(), "{\"active\":true,\"reason\":\"a\xc3\xb1\"}").ok());
    CHECK(problem("{\"active\":true,\"reason\":\"\xc3\"}").find("Invalid encoding") !=
          std::string::npos);  // a sequence cut short
    CHECK(problem("{\"active\":true,\"reason\":\"\xc0\xaf\"}").find("Invalid encoding") !=
          std::string::npos);  // overlong '/'
    CHECK(problem("{\"active\":true,\"\xe2\x82\":1}").find("Invalid encoding") !=
          std::string::npos);  // in a key
    CHECK(errc_of("") == Errc::malformed_json);
    CHECK(problem("  ") == "body: expected a JSON document, got an empty body");
}

TEST_CASE("nesting is bounded without recursion") {
    const auto anything = schema_from("{}");
    const std::string deep = std::string(10000, '[') + std::string(10000, ']');
    const auto result = validate_body(anything, deep);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().detail == "body at offset 64: nested deeper than 64 levels");
    const std::string fine = std::string(64, '[') + std::string(64, ']');
    CHECK(validate_body(anything, fine).ok());
}

TEST_CASE("duplicate keys in nested objects are found, equal keys in siblings are fine") {
    const auto schema = schema_from(R"({"type": "object"})");
    CHECK(validate_body(schema, R"({"a":{"x":1},"b":{"x":1}})").ok());
    CHECK_FALSE(validate_body(schema, R"({"a":{"x":1,"x":2}})").ok());
}
