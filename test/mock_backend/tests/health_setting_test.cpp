#include <catch2/catch.hpp>

#include "health_setting.hpp"

using mock_backend::HealthSetting;
using mock_backend::parse_health_setting;
using Answer = HealthSetting::Answer;

TEST_CASE("health setting {\"status\": 503} is down with 503") {
    const auto setting = parse_health_setting(R"({"status": 503})");
    REQUIRE(setting);
    CHECK(*setting == HealthSetting{Answer::down, 503});
}

TEST_CASE("health setting takes every status from 100 to 599 and none outside") {
    CHECK(parse_health_setting(R"({"status":100})") == HealthSetting{Answer::down, 100});
    CHECK(parse_health_setting(R"({"status":599})") == HealthSetting{Answer::down, 599});
    CHECK_FALSE(parse_health_setting(R"({"status":99})"));
    CHECK_FALSE(parse_health_setting(R"({"status":600})"));
    CHECK_FALSE(parse_health_setting(R"({"status":-503})"));
    CHECK_FALSE(parse_health_setting(R"({"status":4294967799})"));
}

TEST_CASE("health setting status must be a whole JSON number, not a string or a fraction") {
    CHECK_FALSE(parse_health_setting(R"({"status":"503"})"));
    CHECK_FALSE(parse_health_setting(R"({"status":503.5})"));
    CHECK_FALSE(parse_health_setting(R"({"status":503.0})"));
    CHECK_FALSE(parse_health_setting(R"({"status":null})"));
}

TEST_CASE("health setting faults are hang and close only") {
    CHECK(parse_health_setting(R"({"fault":"hang"})") == HealthSetting{Answer::hang, 0});
    CHECK(parse_health_setting(R"({"fault":"close"})") == HealthSetting{Answer::close, 0});
    CHECK_FALSE(parse_health_setting(R"({"fault":"empty-503"})"));
    CHECK_FALSE(parse_health_setting(R"({"fault":"HANG"})"));
    CHECK_FALSE(parse_health_setting(R"({"fault":1})"));
}

TEST_CASE("health setting refuses bodies that are not exactly one known member") {
    CHECK_FALSE(parse_health_setting(""));
    CHECK_FALSE(parse_health_setting("503"));
    CHECK_FALSE(parse_health_setting("{}"));
    CHECK_FALSE(parse_health_setting("[503]"));
    CHECK_FALSE(parse_health_setting(R"({"status":503,"fault":"hang"})"));
    CHECK_FALSE(parse_health_setting(R"({"status":503,"status":502})"));
    CHECK_FALSE(parse_health_setting(R"({"code":503})"));
    CHECK_FALSE(parse_health_setting(R"({"status":503} trailing)"));
    CHECK_FALSE(parse_health_setting(R"({"status":503)"));
}

TEST_CASE("health setting JSON names the state as the control endpoint reports it") {
    CHECK(mock_backend::health_setting_json(HealthSetting{}) == R"({"health":"UP","status":200})");
    CHECK(mock_backend::health_setting_json({Answer::down, 503}) ==
          R"({"health":"DOWN","status":503})");
    CHECK(mock_backend::health_setting_json({Answer::hang, 0}) ==
          R"({"health":"DOWN","fault":"hang"})");
    CHECK(mock_backend::health_setting_json({Answer::close, 0}) ==
          R"({"health":"DOWN","fault":"close"})");
}
