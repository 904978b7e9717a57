#include <catch2/catch.hpp>

#include "fault_setting.hpp"

using mock_backend::FaultMode;
using mock_backend::parse_fault_setting;

TEST_CASE("fault setting takes any x-mock-fault mode and keeps its spelling") {
    const auto empty = parse_fault_setting(R"({"mode": "empty-503"})");
    REQUIRE(empty);
    CHECK(empty->fault.mode == FaultMode::empty_503);
    CHECK(empty->mode == "empty-503");

    const auto hang = parse_fault_setting(R"({"mode":"hang"})");
    REQUIRE(hang);
    CHECK(hang->fault.mode == FaultMode::hang);
}

TEST_CASE("fault setting delay-200 delays by 200 ms") {
    const auto delay = parse_fault_setting(R"({"mode":"delay-200"})");
    REQUIRE(delay);
    CHECK(delay->fault.mode == FaultMode::delay);
    CHECK(delay->fault.delay == std::chrono::milliseconds{200});
    CHECK(delay->mode == "delay-200");
}

TEST_CASE("fault setting refuses unknown modes and out-of-range delays") {
    CHECK_FALSE(parse_fault_setting(R"({"mode":"empty_503"})"));
    CHECK_FALSE(parse_fault_setting(R"({"mode":"delay-600001"})"));
    CHECK_FALSE(parse_fault_setting(R"({"mode":""})"));
}

TEST_CASE("fault setting refuses bodies that are not exactly {\"mode\": string}") {
    CHECK_FALSE(parse_fault_setting(""));
    CHECK_FALSE(parse_fault_setting(R"("hang")"));
    CHECK_FALSE(parse_fault_setting("{}"));
    CHECK_FALSE(parse_fault_setting(R"({"mode":null})"));
    CHECK_FALSE(parse_fault_setting(R"({"mode":["hang"]})"));
    CHECK_FALSE(parse_fault_setting(R"({"fault":"hang"})"));
    CHECK_FALSE(parse_fault_setting(R"({"mode":"hang","extra":1})"));
}

TEST_CASE("fault setting JSON is the mode, or null when none is set") {
    CHECK(mock_backend::fault_setting_json(parse_fault_setting(R"({"mode":"close"})")) ==
          R"({"mode":"close"})");
    CHECK(mock_backend::fault_setting_json(std::nullopt) == R"({"mode":null})");
}
