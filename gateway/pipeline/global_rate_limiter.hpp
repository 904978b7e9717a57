#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "io/executor.hpp"
#include "observe/rate_limit_outcome.hpp"
#include "pipeline/rate_limiter.hpp"
#include "upstream/redis_client.hpp"
#include "upstream/redis_health.hpp"

namespace gateway {

/// What Redis decided for a request under a `scope: global` limit, or that it could not.
struct GlobalRateDecision {
    RateVerdict verdict = RateVerdict::fallback;  // allowed, denied or fallback
    RateDecision decision;                        // allowed and denied: Redis's numbers
    RateFallback reason = RateFallback::unavailable;  // fallback: why
};

/// The global rate limits of one worker: GCRA in one Lua script that Redis runs atomically per
/// decision (its TIME is the clock, so replicas with skewed clocks agree), sent with EVALSHA
/// and sent whole (EVAL) when Redis answers NOSCRIPT. No read-then-write ever leaves the
/// gateway, so concurrent replicas cannot both take the last token.
///
/// A decision waits at most redis.timeout_ms; one Redis did not make in time, could not take,
/// or answered with an error falls back (the caller applies on_redis_error) and tells the
/// process's RedisHealth, whose breaker then spares Redis, and the requests, the asking.
///
/// A bucket's key is `gateway:rl:{ROUTE}` plus, for a keyed limit, the client address or a
/// digest of the header's value (no secret is stored in Redis): the hash tag puts one limit's
/// keys on one cluster slot. Each key expires once its bucket would be full again.
class GlobalRateLimiter {
public:
    GlobalRateLimiter(const Executor& executor, RedisHealth& health);

    /// On the worker's thread, with each config it switches to: a changed `redis:` section
    /// gets a new client (decisions under way finish on the old one).
    void apply(const Config& config);

    Task<GlobalRateDecision> decide(const RouteConfig& route, const RateLimit& limit,
                                    std::string_view key);

private:
    /// A limit's two script arguments, encoded once per config (a decision only appends them).
    struct EncodedLimit {
        const RateLimit* limit;
        std::string arguments;
    };
    const std::string& arguments_of(const RateLimit& limit);

    Executor executor_;
    RedisHealth& health_;
    std::shared_ptr<RedisClient> client_;
    std::vector<EncodedLimit> encoded_;  // the global limits of the config applied last
    std::string scratch_;                // a limit's arguments not among them (an older config's)
    std::string bucket_;                 // scratch for the key
};

/// The Lua source of the decision, and its SHA-1 (what EVALSHA names it by).
std::string_view gcra_script();
const std::string& gcra_script_sha1();

}  // namespace gateway
