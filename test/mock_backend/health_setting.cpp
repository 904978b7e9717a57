#include "health_setting.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace mock_backend {

namespace {

std::optional<HealthSetting::Answer> parse_fault_name(std::string_view name) {
    if (name == "hang") return HealthSetting::Answer::hang;
    if (name == "close") return HealthSetting::Answer::close;
    return std::nullopt;
}

}  // namespace

std::optional<HealthSetting> parse_health_setting(std::string_view body) {
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    if (doc.HasParseError() || !doc.IsObject() || doc.MemberCount() != 1) return std::nullopt;
    const auto& member = *doc.MemberBegin();
    const std::string_view key{member.name.GetString(), member.name.GetStringLength()};
    const auto& value = member.value;
    if (key == "status") {
        // IsUint() is false for 503.0 and for negatives, so only whole numbers get this far.
        if (!value.IsUint()) return std::nullopt;
        const unsigned status = value.GetUint();
        if (status < kMinHealthStatus || status > kMaxHealthStatus) return std::nullopt;
        return HealthSetting{HealthSetting::Answer::down, static_cast<std::uint16_t>(status)};
    }
    if (key == "fault" && value.IsString()) {
        const auto answer = parse_fault_name({value.GetString(), value.GetStringLength()});
        if (!answer) return std::nullopt;
        return HealthSetting{*answer, 0};
    }
    return std::nullopt;
}

std::string_view health_setting_help() noexcept {
    return R"(PUT /__mock/health takes one of {"status": N} with N from 100 to 599, )"
           R"({"fault": "hang"} or {"fault": "close"}; DELETE /__mock/health restores 200 UP)";
}

std::string health_setting_json(const HealthSetting& setting) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w{buffer};
    w.StartObject();
    w.Key("health");
    w.String(setting.answer == HealthSetting::Answer::up ? "UP" : "DOWN");
    switch (setting.answer) {
        case HealthSetting::Answer::up:
        case HealthSetting::Answer::down:
            w.Key("status");
            w.Uint(setting.status);
            break;
        case HealthSetting::Answer::hang:
            w.Key("fault");
            w.String("hang");
            break;
        case HealthSetting::Answer::close:
            w.Key("fault");
            w.String("close");
            break;
    }
    w.EndObject();
    return std::string{buffer.GetString(), buffer.GetSize()};
}

}  // namespace mock_backend
