#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace gateway {

/// What a request's rate limit decided, for its counters (header-only: the Asio-free stages
/// set it, the metrics count it).
enum class RateVerdict : std::uint8_t {
    none,      // the route has no limit
    allowed,   // a token was taken
    denied,    // 429
    fallback,  // a global limit that Redis could not decide: on_redis_error chose
};

/// Why a global limit's decision fell back (the `reason` label of
/// gateway_rate_limit_fallbacks_total).
enum class RateFallback : std::uint8_t {
    timeout,       // no answer within redis.timeout_ms
    unavailable,   // no connection, or it was lost before the answer
    error,         // Redis answered with an error (NOAUTH, OOM, a script error, ...)
    breaker_open,  // not asked: the breaker is open after repeated failures
};
inline constexpr std::array<std::string_view, 4> kRateFallbackReasons = {"timeout", "unavailable",
                                                                         "error", "breaker_open"};

}  // namespace gateway
