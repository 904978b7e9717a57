#include "pipeline/chunked_framing.hpp"

#include <algorithm>
#include <functional>
#include <iterator>
#include <string>

#include "core/text.hpp"

namespace gateway {

namespace {

// RFC 9112 7.1.1's chunk-ext holds tokens, "=", ";", BWS and quoted-strings; a quoted-string's
// qdtext and quoted-pair both range over HTAB / SP / VCHAR / obs-text. Beast has checked the
// grammar already, so a byte-wise check of that range is all that is left.
bool allowed_in_extension(unsigned char c) noexcept {
    return c == '\t' || c == ' ' || (c >= 0x21 && c <= 0x7E) || c >= 0x80;
}

std::string describe_byte(unsigned char c) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string text = "0x";
    text += kHex[c >> 4];
    text += kHex[c & 0xF];
    return text;
}

/// True when `bytes` starts like the last chunk's line: an optional CRLF (the end of the chunk
/// before it), one or more '0', then extensions or the line's end.
bool starts_with_last_chunk(std::string_view bytes) noexcept {
    if (bytes.starts_with("\r\n")) bytes.remove_prefix(2);
    std::size_t zeros = 0;
    while (zeros < bytes.size() && bytes[zeros] == '0') ++zeros;
    if (zeros == 0) return false;
    const std::size_t line_end = bytes.find("\r\n");
    if (line_end == std::string_view::npos) return false;  // the size line itself is too long
    const std::string_view rest = bytes.substr(zeros, line_end - zeros);
    return rest.empty() || rest.front() == ';' || rest.front() == ' ' || rest.front() == '\t';
}

}  // namespace

std::optional<Error> check_chunk_extensions(std::string_view extensions) {
    for (std::size_t i = 0; i < extensions.size(); ++i) {
        const auto c = static_cast<unsigned char>(extensions[i]);
        if (allowed_in_extension(c)) continue;
        return Error{Errc::malformed_request,
                     "chunked body: chunk extension " + quoted_excerpt(extensions, 64) +
                         " holds the control byte " + describe_byte(c) + " at offset " +
                         std::to_string(i) + "; only HTAB, SP and visible characters are allowed"};
    }
    return std::nullopt;
}

Error chunked_overflow_error(std::string_view buffered, std::size_t bound) {
    if (starts_with_last_chunk(buffered)) {
        return Error{Errc::header_too_large, "chunked body: the trailer section is over " +
                                                 std::to_string(bound) + " bytes"};
    }
    return Error{Errc::malformed_request, "chunked body: a chunk-size line is over " +
                                              std::to_string(bound) + " bytes"};
}

std::size_t count_fields(const boost::beast::http::fields& fields) noexcept {
    return static_cast<std::size_t>(std::distance(fields.begin(), fields.end()));
}

HeadFields::HeadFields(const boost::beast::http::fields& fields) {
    for (const auto& field : fields) nodes_.push_back(&field);
    std::sort(nodes_.begin(), nodes_.end(), std::less<const void*>());
}

std::size_t HeadFields::drop_others(boost::beast::http::fields& fields) const {
    std::size_t dropped = 0;
    for (auto it = fields.begin(); it != fields.end();) {
        if (std::binary_search(nodes_.begin(), nodes_.end(), static_cast<const void*>(&*it),
                               std::less<const void*>())) {
            ++it;
        } else {
            it = fields.erase(it);
            ++dropped;
        }
    }
    return dropped;
}

}  // namespace gateway
