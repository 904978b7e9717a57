#include "support/bodies.hpp"

#include <boost/beast/core/string.hpp>
#include <rapidjson/document.h>

namespace test_support {

ErrorBody parse_error_body(std::string_view body) {
    ErrorBody out;
    rapidjson::Document document;
    document.Parse(body.data(), body.size());
    if (document.HasParseError() || !document.IsObject()) {
        out.problem = "not a JSON object";
        return out;
    }
    if (document.MemberCount() != 4) {
        out.problem = "expected exactly 4 members, got " + std::to_string(document.MemberCount());
        return out;
    }
    const auto string_member = [&](const char* name, std::string& into) {
        const auto it = document.FindMember(name);
        if (it == document.MemberEnd() || !it->value.IsString()) {
            out.problem += std::string(name) + " missing or not a string; ";
            return false;
        }
        into.assign(it->value.GetString(), it->value.GetStringLength());
        return true;
    };
    bool ok = true;
    const auto code = document.FindMember("code");
    if (code == document.MemberEnd() || !code->value.IsInt()) {
        out.problem += "code missing or not an integer; ";
        ok = false;
    } else {
        out.code = code->value.GetInt();
    }
    ok = string_member("status", out.status) && ok;
    ok = string_member("message", out.message) && ok;
    ok = string_member("detailMsg", out.detail) && ok;
    out.valid = ok;
    return out;
}

std::optional<std::string> EchoedRequest::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (boost::beast::iequals(key, name)) return value;
    }
    return std::nullopt;
}

std::size_t EchoedRequest::header_count(std::string_view name) const {
    std::size_t count = 0;
    for (const auto& [key, value] : headers) {
        if (boost::beast::iequals(key, name)) ++count;
    }
    return count;
}

EchoedRequest parse_echo(std::string_view body) {
    EchoedRequest out;
    rapidjson::Document document;
    document.Parse(body.data(), body.size());
    if (document.HasParseError() || !document.IsObject()) return out;
    const auto text = [&](const char* name, std::string& into) {
        const auto it = document.FindMember(name);
        if (it == document.MemberEnd() || !it->value.IsString()) return false;
        into.assign(it->value.GetString(), it->value.GetStringLength());
        return true;
    };
    if (!text("method", out.method) || !text("target", out.target) || !text("body", out.body)) {
        return out;
    }
    const auto headers = document.FindMember("headers");
    if (headers == document.MemberEnd() || !headers->value.IsArray()) return out;
    for (const auto& pair : headers->value.GetArray()) {
        if (!pair.IsArray() || pair.Size() != 2 || !pair[0].IsString() || !pair[1].IsString()) {
            return out;
        }
        out.headers.emplace_back(std::string(pair[0].GetString(), pair[0].GetStringLength()),
                                 std::string(pair[1].GetString(), pair[1].GetStringLength()));
    }
    out.valid = true;
    return out;
}

bool is_uuid_v4(std::string_view text) {
    if (text.size() != 36) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return text[14] == '4' &&
           (text[19] == '8' || text[19] == '9' || text[19] == 'a' || text[19] == 'b');
}

bool is_json(std::string_view text) {
    rapidjson::Document document;
    document.Parse(text.data(), text.size());
    return !document.HasParseError();
}

}  // namespace test_support
