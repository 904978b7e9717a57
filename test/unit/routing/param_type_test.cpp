#include <catch2/catch.hpp>

#include "routing/param_type.hpp"

using namespace gateway;

namespace {
ParamType of(ParamKind kind) {
    ParamType type;
    type.kind = kind;
    return type;
}
}  // namespace

TEST_CASE("int64 param accepts the full range and nothing else") {
    const auto type = of(ParamKind::int64);
    CHECK_FALSE(type.check("214748364"));
    CHECK_FALSE(type.check("-9223372036854775808"));
    CHECK_FALSE(type.check("9223372036854775807"));
    CHECK(type.check("9223372036854775808").value() ==
          "expected int64, got \"9223372036854775808\" (out of range)");
    CHECK(type.check("abc").value() == "expected int64, got \"abc\"");
    CHECK(type.check("12a").has_value());
    CHECK(type.check("+1").has_value());
    CHECK(type.check(" 1").has_value());
    CHECK(type.check("").has_value());
    CHECK(type.check("1.5").has_value());
}

TEST_CASE("int32 param rejects 2147483648") {
    const auto type = of(ParamKind::int32);
    CHECK_FALSE(type.check("2147483647"));
    CHECK_FALSE(type.check("-2147483648"));
    CHECK(type.check("2147483648").value() == "expected int32, got \"2147483648\" (out of range)");
}

TEST_CASE("int32 param with allowed values names them") {
    auto type = of(ParamKind::int32);
    type.allowed_integers = {1, 2};
    CHECK_FALSE(type.check("1"));
    CHECK_FALSE(type.check("2"));
    CHECK(type.check("3").value() == "must be one of 1, 2, got 3");
    CHECK(type.check("214748364").value() == "must be one of 1, 2, got 214748364");
}

TEST_CASE("integer param with min and max reports the range") {
    auto type = of(ParamKind::int64);
    type.min = 1;
    type.max = 10;
    CHECK_FALSE(type.check("10"));
    CHECK(type.check("0").value() == "must be int64 in [1, 10], got 0");
}

TEST_CASE("uuid param wants 8-4-4-4-12 hex digits in either case") {
    const auto type = of(ParamKind::uuid);
    CHECK_FALSE(type.check("123e4567-e89b-12d3-a456-556642440000"));
    CHECK_FALSE(type.check("123E4567-E89B-12D3-A456-556642440000"));
    CHECK(type.check("123e4567-e89b-12d3-a456-55664244000").has_value());
    CHECK(type.check("123e4567e89b12d3a456556642440000").has_value());
    CHECK(type.check("123e4567-e89b-12d3-a456-55664244000g").has_value());
}

TEST_CASE("enum param lists the values it accepts") {
    auto type = of(ParamKind::enumeration);
    type.allowed_strings = {"unsubscribe", "cancel"};
    CHECK_FALSE(type.check("cancel"));
    CHECK(type.check("Cancel").value() == "expected one of unsubscribe, cancel, got \"Cancel\"");
    CHECK(type.describe() == "one of unsubscribe, cancel");
}

TEST_CASE("string param refuses empty and over-long values") {
    auto type = of(ParamKind::string);
    type.max_length = 3;
    CHECK_FALSE(type.check("abc"));
    CHECK(type.check("").has_value());
    CHECK(type.check("abcd").value() == "expected at most 3 bytes, got 4");
}

TEST_CASE("integer array accepts repeated, comma and bracket forms") {
    const auto type = of(ParamKind::int64_array);
    CHECK_FALSE(type.check_array({"1", "2"}));
    CHECK_FALSE(type.check_array({"[1,2]"}));
    CHECK_FALSE(type.check_array({"[0]"}));
    CHECK_FALSE(type.check_array({"1, 2"}));
    CHECK_FALSE(type.check_array({"[]"}));
    CHECK_FALSE(type.check_array({""}));
    CHECK(type.check_array({"[1,x]"}).value() == "element 1: expected int64, got \"x\"");
    CHECK(type.check_array({"[1,2"}).value().find("missing ]") != std::string::npos);
    CHECK(type.check_array({"1", "[2,", "3]"}).has_value());
    CHECK(type.describe() == "int64 array");
}

TEST_CASE("type names round-trip") {
    for (auto kind : {ParamKind::string, ParamKind::int32, ParamKind::int64, ParamKind::uuid,
                      ParamKind::enumeration, ParamKind::int32_array, ParamKind::int64_array}) {
        CHECK(param_kind_from_name(param_kind_name(kind)) == kind);
    }
    CHECK_FALSE(param_kind_from_name("integer"));
}
