#pragma once

#include <boost/beast/http/message.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace gateway {

/// Longest request line accepted (414 beyond).
inline constexpr std::size_t kMaxRequestLine = 8 * 1024;
/// Longest method token accepted; real ones are at most 7 letters.
inline constexpr std::size_t kMaxMethodLength = 32;

/// Where the request head ends in `bytes`: the offset just past its blank line, or nothing
/// while the blank line has not arrived. Bare-LF line ends count too, so that such a request
/// is refused at once by the parser instead of waiting for a CRLF that never comes.
std::optional<std::size_t> find_head_end(std::string_view bytes) noexcept;

/// Checks the raw head bytes for what Beast would accept silently, or would only see once the
/// head is complete: a start that is no method token (TLS, binary noise), a request line over
/// kMaxRequestLine (414) and obs-fold continuation lines (400). `head` may be incomplete; call
/// it again as bytes arrive (it only answers an error or nothing).
std::optional<Error> inspect_raw_head(std::string_view head);

/// Why a Host field value is not RFC 3986's `host [":" port]` (a reg-name or IPv4 address, or
/// an IPv6 / IPvFuture literal in brackets; the port digits), or nothing when it is. An empty
/// host is valid: RFC 9112 3.2 has clients send one for a target without authority.
std::optional<std::string> host_field_problem(std::string_view value);

/// The framing decisions Beast leaves to its user, on the parsed head: exactly one Host for
/// HTTP/1.1 (at most one for 1.0), valid per host_field_problem; Content-Length as one field
/// of digits; Transfer-Encoding only as exactly `chunked`, only in HTTP/1.1, never with
/// Content-Length; methods in upper case; the target in origin-form, or in absolute-form naming the Host itself. Answers the
/// origin-form target (a view into the header) to route and forward.
Result<std::string_view> check_framing(const boost::beast::http::request_header<>& header);

}  // namespace gateway
