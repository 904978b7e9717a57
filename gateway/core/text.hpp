#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

namespace gateway {

/// Quotes client- or upstream-supplied bytes for an error detail: wraps them in double quotes,
/// escapes control bytes and invalid UTF-8 as \xNN (so the JSON we emit stays valid UTF-8 and
/// a log line stays one line), and cuts after `max_bytes` of input with a "..." marker.
std::string quoted_excerpt(std::string_view bytes, std::size_t max_bytes = 64);

/// Appends `bytes` to `out` as a JSON string literal, quotes included. Valid UTF-8 is kept as
/// it is; control bytes become \u00NN and each byte of invalid UTF-8 becomes U+FFFD, so the
/// output is always valid JSON on one line whatever a client sent.
void append_json_string(std::string& out, std::string_view bytes);

/// The items separated by `separator` ("a, b, c"); numbers are written in decimal.
template <typename Range>
std::string join(const Range& items, std::string_view separator = ", ") {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += separator;
        if constexpr (std::is_arithmetic_v<std::decay_t<decltype(item)>>) {
            out += std::to_string(item);
        } else {
            out += item;
        }
    }
    return out;
}

/// FNV-1a 64 of `bytes` as 16 hex digits, continuing from `seed` (another call's answer) when
/// given. Tells versions of a file apart (config hashes, certificate rotations); not a
/// security hash.
std::string fnv1a64_hex(std::string_view bytes, std::string_view seed = {});

/// Case-insensitive ASCII comparison, for header names and tokens.
bool iequals(std::string_view a, std::string_view b) noexcept;

/// The string with ASCII whitespace (SP, HTAB) removed from both ends.
std::string_view trim(std::string_view s) noexcept;

}  // namespace gateway
