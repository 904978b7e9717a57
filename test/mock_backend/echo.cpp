#include "echo.hpp"

#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace mock_backend {

namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

bool is_continuation(unsigned char c) noexcept {
    return (c & 0xC0u) == 0x80u;
}

/// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629 table), 0 if there is
/// none. Overlong forms and surrogates count as ill-formed.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
    const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = at(i);
    const std::size_t left = s.size() - i;
    if (c < 0x80u) return 1;
    if (c >= 0xC2u && c <= 0xDFu) return left >= 2 && is_continuation(at(i + 1)) ? 2 : 0;
    if (c >= 0xE0u && c <= 0xEFu) {
        if (left < 3 || !is_continuation(at(i + 1)) || !is_continuation(at(i + 2))) return 0;
        if (c == 0xE0u && at(i + 1) < 0xA0u) return 0;  // overlong
        if (c == 0xEDu && at(i + 1) > 0x9Fu) return 0;  // surrogate
        return 3;
    }
    if (c >= 0xF0u && c <= 0xF4u) {
        if (left < 4 || !is_continuation(at(i + 1)) || !is_continuation(at(i + 2)) ||
            !is_continuation(at(i + 3))) {
            return 0;
        }
        if (c == 0xF0u && at(i + 1) < 0x90u) return 0;  // overlong
        if (c == 0xF4u && at(i + 1) > 0x8Fu) return 0;  // above U+10FFFF
        return 4;
    }
    return 0;
}

/// Writes `s` as a JSON string. RapidJSON copies bytes unvalidated, so a binary body would
/// make the echo itself invalid JSON; ill-formed bytes become U+FFFD instead. The common case
/// (valid UTF-8) is written straight from the request without a copy.
void write_text(JsonWriter& w, std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const std::size_t n = utf8_sequence_length(s, i);
        if (n == 0) break;
        i += n;
    }
    if (i == s.size()) {
        w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
        return;
    }
    std::string repaired{s.substr(0, i)};
    while (i < s.size()) {
        const std::size_t n = utf8_sequence_length(s, i);
        if (n == 0) {
            repaired += "\xEF\xBF\xBD";
            ++i;
        } else {
            repaired.append(s, i, n);
            i += n;
        }
    }
    w.String(repaired.data(), static_cast<rapidjson::SizeType>(repaired.size()));
}

}  // namespace

std::string echo_json(const Request& req) {
    rapidjson::StringBuffer buffer;
    JsonWriter w{buffer};
    w.StartObject();
    w.Key("method");
    write_text(w, to_std(req.method_string()));
    w.Key("target");
    write_text(w, to_std(req.target()));
    w.Key("headers");
    w.StartArray();
    // Beast's fields iterate in insertion (= received) order and keep the name as sent.
    for (const auto& field : req) {
        w.StartArray();
        write_text(w, to_std(field.name_string()));
        write_text(w, to_std(field.value()));
        w.EndArray();
    }
    w.EndArray();
    w.Key("body");
    write_text(w, req.body());
    w.EndObject();
    return std::string{buffer.GetString(), buffer.GetSize()};
}

}  // namespace mock_backend
