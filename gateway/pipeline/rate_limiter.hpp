#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <atomic>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "core/error.hpp"

namespace gateway {

/// One request's verdict under a route's `rate_limit:`.
struct RateDecision {
    bool allowed = false;
    /// Whole tokens left in the bucket after this request.
    std::size_t remaining = 0;
    /// How long until the next request of this key can pass: zero while a whole token is left.
    /// So it is never zero when refused, and an allowed request that took the last token says
    /// when the next one is back (what RateLimit's t needs). Rounded up to the millisecond, so
    /// a client waiting exactly this long finds a token.
    std::chrono::milliseconds retry_after{0};
};

/// The local rate limits of every route: a token bucket per (route, key), shared by all the
/// process's workers, so a limit is the process's and not each worker's share of it.
///
/// Each bucket is GCRA's one number, the theoretical arrival time, in integer nanoseconds:
/// no floating point drifts a long-lived bucket into admitting one request too many. A route's
/// buckets are at most `max_keys`, the least recently used going first, spread over up to 16
/// shards with a mutex each; Key::route's one bucket is a single atomic, updated without a lock.
/// Thread-safe. Only retain(), and a route's first request if no retain() made its table, take
/// the whole limiter's lock exclusively.
class RateLimiter {
public:
    RateLimiter();
    ~RateLimiter();
    RateLimiter(const RateLimiter&) = delete;
    RateLimiter& operator=(const RateLimiter&) = delete;

    struct Table;

    /// What one worker keeps of the limiter, so that its requests find their route's buckets
    /// without a lock: the tables of the routes last retained, by the address of their limit
    /// (and its constants), refreshed on the first request after each retain(). One thread's.
    class WorkerView {
    public:
        WorkerView() = default;

    private:
        friend class RateLimiter;
        struct Entry {
            const RateLimit* limit;
            std::shared_ptr<Table> table;  // kept alive until the next refresh
            std::int64_t interval;
            std::int64_t tolerance;
        };
        std::uint64_t generation_ = 0;  // never the limiter's: it starts at 1
        std::vector<Entry> entries_;
    };

    /// decide() for a worker with its view: the same verdicts, without the limiter's lock.
    RateDecision decide(WorkerView& view, std::string_view route, const RateLimit& limit,
                        std::string_view key, std::chrono::steady_clock::time_point now);

    /// Takes one token from the bucket of `key` (the client address, the header's value; ignored
    /// for Key::route) on route `route`, limited by `limit`, at `now`. Never allocates once the
    /// route's table and the key's bucket exist.
    RateDecision decide(std::string_view route, const RateLimit& limit, std::string_view key,
                        std::chrono::steady_clock::time_point now);

    /// On each config reload, with the new config's routes: drops the buckets of routes that are
    /// gone or no longer limited, and refills those whose limit changed (rate, burst, key or
    /// max_keys). Unchanged limits keep their buckets, so a reload lets no one burst again.
    void retain(const std::vector<RouteConfig>& routes);

    /// Buckets held for `route` (tests, /metrics).
    std::size_t keys(std::string_view route) const;

private:
    struct NameHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };

    mutable std::shared_mutex mutex_;  // shared by decide() and keys(); retain() alone excludes
    std::unordered_map<std::string, std::shared_ptr<Table>, NameHash, std::equal_to<>> tables_;
    /// The tables of the last retained routes, by the address of their RateLimit: those
    /// addresses stay valid while their config does, and no config freed since can alias them
    /// (each was retained before the next one was made).
    std::vector<std::pair<const RateLimit*, std::shared_ptr<Table>>> by_limit_;
    std::atomic<std::uint64_t> generation_{1};  // bumped by each retain()
};

/// The `RateLimit-Policy` field value for `limit` (draft-ietf-httpapi-ratelimit-headers):
/// `"name";q=<burst>;w=<seconds to refill the whole burst, rounded up, at least 1>`.
std::string rate_limit_policy_header(std::string_view policy_name, const RateLimit& limit);

/// The `RateLimit` field value for `decision`: `"name";r=<remaining>;t=<seconds>`, t being the
/// seconds until a token is back (rounded up, at least 1) when none is left, else 0.
std::string rate_limit_header(std::string_view policy_name, const RateDecision& decision);

/// The Retry-After of a refused request: retry_after rounded up to the second, at least 1.
std::chrono::seconds retry_after_seconds(const RateDecision& decision);

/// The 429 for a request `route`'s limit refused (local or global alike): what the limit is,
/// whose bucket (never the key's value: a header may carry a secret), with Retry-After,
/// RateLimit-Policy and RateLimit.
Error rate_limited_error(const RouteConfig& route, const RateLimit& limit, const RateDecision& decision);

/// The 503 for a global limit with on_redis_error: deny that Redis could not decide. Names no
/// Redis host: `why` is one of the fallback reasons' plain words.
Error rate_limit_unavailable_error(const RouteConfig& route, std::string_view why);

}  // namespace gateway
