#include "fault_setting.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace mock_backend {

std::optional<FaultSetting> parse_fault_setting(std::string_view body) {
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    if (doc.HasParseError() || !doc.IsObject() || doc.MemberCount() != 1) return std::nullopt;
    const auto& member = *doc.MemberBegin();
    const std::string_view key{member.name.GetString(), member.name.GetStringLength()};
    if (key != "mode" || !member.value.IsString()) return std::nullopt;
    const std::string_view mode{member.value.GetString(), member.value.GetStringLength()};
    const auto fault = parse_fault(mode);
    if (!fault) return std::nullopt;
    return FaultSetting{*fault, std::string{mode}};
}

std::string fault_setting_json(const std::optional<FaultSetting>& setting) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w{buffer};
    w.StartObject();
    w.Key("mode");
    if (setting) {
        w.String(setting->mode.data(), static_cast<rapidjson::SizeType>(setting->mode.size()));
    } else {
        w.Null();
    }
    w.EndObject();
    return std::string{buffer.GetString(), buffer.GetSize()};
}

}  // namespace mock_backend
