#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "config/config.hpp"
#include "core/error.hpp"
#include "core/result.hpp"
#include "pipeline/exchange.hpp"

namespace gateway {

/// What the bytes read so far say of the next request head.
struct HeadScan {
    enum class Outcome { complete, refused, incomplete } outcome = Outcome::incomplete;
    std::size_t size = 0;  // complete: bytes of the head at the front of `bytes`
    std::optional<Error> refusal;
};

/// Checks raw head bytes as they arrive, before anything parses them: what Beast would accept
/// silently (inspect_raw_head: no method token, a request line over 8 KiB, obs-fold), and the
/// head's size against limits.max_header_bytes (431). Call again as bytes arrive.
HeadScan scan_head(std::string_view bytes, const Limits& limits);

/// Sets `parser` up for a request head (its size limit; no body limit until a route decides
/// it, non-eager) and parses the complete head in `head`: 400 when Beast refuses it.
Status parse_head(RequestParser& parser, std::string_view head, const Limits& limits);

/// The parse error as the client hears of it.
Error parse_error(const boost::system::error_code& ec);

}  // namespace gateway
