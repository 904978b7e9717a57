#include "routing/param_type.hpp"

#include <array>
#include <charconv>
#include <limits>

#include "core/text.hpp"

namespace gateway {
namespace {

constexpr std::array<std::string_view, 7> kKindNames = {
    "string", "int32", "int64", "uuid", "enum", "int32_array", "int64_array"};

bool is_hex(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_uuid(std::string_view s) noexcept {
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash_position ? s[i] != '-' : !is_hex(s[i])) return false;
    }
    return true;
}

ParamKind element_kind(ParamKind kind) noexcept {
    if (kind == ParamKind::int32_array) return ParamKind::int32;
    if (kind == ParamKind::int64_array) return ParamKind::int64;
    return kind;
}

}  // namespace

std::string_view param_kind_name(ParamKind kind) noexcept {
    return kKindNames[static_cast<std::size_t>(kind)];
}

std::optional<ParamKind> param_kind_from_name(std::string_view name) noexcept {
    for (std::size_t i = 0; i < kKindNames.size(); ++i) {
        if (kKindNames[i] == name) return static_cast<ParamKind>(i);
    }
    return std::nullopt;
}

bool is_integer_kind(ParamKind kind) noexcept {
    return kind == ParamKind::int32 || kind == ParamKind::int64 || is_array_kind(kind);
}

bool is_array_kind(ParamKind kind) noexcept {
    return kind == ParamKind::int32_array || kind == ParamKind::int64_array;
}

std::string ParamType::describe() const {
    std::string out(param_kind_name(element_kind(kind)));
    if (kind == ParamKind::enumeration) return "one of " + join(allowed_strings);
    if (!allowed_integers.empty()) out += ", one of " + join(allowed_integers);
    if (min && max) {
        out += " in [" + std::to_string(*min) + ", " + std::to_string(*max) + "]";
    } else if (min) {
        out += " >= " + std::to_string(*min);
    } else if (max) {
        out += " <= " + std::to_string(*max);
    }
    if (max_length) out += " of at most " + std::to_string(*max_length) + " bytes";
    if (is_array_kind(kind)) out += " array";
    return out;
}

std::optional<std::string> ParamType::check(std::string_view value) const {
    const ParamKind scalar = element_kind(kind);
    switch (scalar) {
        case ParamKind::string:
            if (value.empty()) return "expected a non-empty string";
            if (max_length && value.size() > *max_length) {
                return "expected at most " + std::to_string(*max_length) + " bytes, got " +
                       std::to_string(value.size());
            }
            return std::nullopt;
        case ParamKind::uuid:
            if (is_uuid(value)) return std::nullopt;
            return "expected uuid (8-4-4-4-12 hex digits), got " + quoted_excerpt(value);
        case ParamKind::enumeration:
            for (const auto& allowed : allowed_strings) {
                if (allowed == value) return std::nullopt;
            }
            return "expected one of " + join(allowed_strings) + ", got " + quoted_excerpt(value);
        case ParamKind::int32:
        case ParamKind::int64: {
            std::int64_t number = 0;
            const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
            const bool whole = ec == std::errc() && end == value.data() + value.size();
            const bool fits = scalar == ParamKind::int64 ||
                              (number >= std::numeric_limits<std::int32_t>::min() &&
                               number <= std::numeric_limits<std::int32_t>::max());
            if (!whole || !fits) {
                std::string why = ec == std::errc::result_out_of_range || (whole && !fits)
                                      ? " (out of range)"
                                      : "";
                return "expected " + std::string(param_kind_name(scalar)) + ", got " +
                       quoted_excerpt(value) + why;
            }
            if (!allowed_integers.empty()) {
                for (const auto allowed : allowed_integers) {
                    if (allowed == number) return std::nullopt;
                }
                return "must be one of " + join(allowed_integers) + ", got " + std::to_string(number);
            }
            if ((min && number < *min) || (max && number > *max)) {
                return "must be " + describe() + ", got " + std::to_string(number);
            }
            return std::nullopt;
        }
        case ParamKind::int32_array:
        case ParamKind::int64_array:
            break;
    }
    return "unsupported parameter type";
}

std::optional<std::string> ParamType::check_array(
    const std::vector<std::string>& occurrences) const {
    std::size_t index = 0;
    for (std::string_view occurrence : occurrences) {
        // `[1,2]` is the JSON-ish form the API docs show; `1,2` and repeated keys are what
        // form encoders and Spring clients send. All three mean the same list.
        if (!occurrence.empty() && occurrence.front() == '[') {
            if (occurrence.back() != ']') {
                return "expected " + describe() + " like [1,2], got " + quoted_excerpt(occurrence) +
                       " (missing ])";
            }
            occurrence = occurrence.substr(1, occurrence.size() - 2);
        }
        if (trim(occurrence).empty()) continue;  // `penalties=` or `[]`: an empty list
        while (true) {
            const std::size_t comma = occurrence.find(',');
            const std::string_view element = trim(occurrence.substr(0, comma));
            if (auto problem = check(element)) {
                return "element " + std::to_string(index) + ": " + *problem;
            }
            ++index;
            if (comma == std::string_view::npos) break;
            occurrence.remove_prefix(comma + 1);
        }
    }
    return std::nullopt;
}

}  // namespace gateway
