#include "routing/canonical_path.hpp"

#include <array>

#include "core/text.hpp"
#include "routing/percent_decoding.hpp"

namespace gateway {
namespace {

/// Which bytes a canonical segment keeps as they are: unreserved characters, sub-delims, ':'
/// and '@'. A table, because every byte of every request path is looked up.
constexpr std::array<bool, 256> kStaysPlain = [] {
    std::array<bool, 256> table{};
    for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
    for (int c = '0'; c <= '9'; ++c) table[c] = true;
    for (const char c : std::string_view("-._~!$&'()*+,;=:@")) table[static_cast<unsigned char>(c)] = true;
    return table;
}();

bool stays_plain(char c) noexcept { return kStaysPlain[static_cast<unsigned char>(c)]; }

/// The usual path: only plain bytes and slashes, and no dot segment. It is its own canonical form.
bool already_canonical(std::string_view path) noexcept {
    for (const char c : path) {
        if (c != '/' && !stays_plain(c)) return false;
    }
    for (std::size_t at = path.find("/."); at != std::string_view::npos; at = path.find("/.", at + 1)) {
        const std::string_view segment = path.substr(at + 1, path.find('/', at + 1) - at - 1);
        if (segment == "." || segment == "..") return false;
    }
    return true;
}

Error refuse(std::string_view segment, const char* why) {
    return Error{Errc::invalid_path, "path segment " + quoted_excerpt(segment) + ": " + why};
}

}  // namespace

Result<std::string> canonicalize_path(std::string_view raw_path) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    if (raw_path.empty() || raw_path.front() != '/') {
        return Error{Errc::invalid_path, "path must start with '/'"};
    }
    if (already_canonical(raw_path)) return std::string(raw_path);
    std::string canonical;
    canonical.reserve(raw_path.size());
    std::string_view rest = raw_path.substr(1);
    while (true) {
        const std::size_t slash = rest.find('/');
        const std::string_view raw = rest.substr(0, slash);
        canonical += '/';
        const auto decoded = percent_decode(raw, false);
        if (!decoded) return refuse(raw, "invalid percent-encoding");
        if (*decoded == "." || *decoded == "..") {
            return refuse(raw, "dot segments are not allowed");
        }
        for (const char c : *decoded) {
            const auto byte = static_cast<unsigned char>(c);
            if (c == '/') return refuse(raw, "an encoded '/' is not allowed");
            if (byte < 0x20 || byte == 0x7F) return refuse(raw, "control characters are not allowed");
            if (stays_plain(c)) {
                canonical += c;
            } else {
                canonical += '%';
                canonical += kHex[byte >> 4];
                canonical += kHex[byte & 0xF];
            }
        }
        if (slash == std::string_view::npos) break;
        rest.remove_prefix(slash + 1);
    }
    return canonical;
}

}  // namespace gateway
