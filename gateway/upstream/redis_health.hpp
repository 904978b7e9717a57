#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace gateway {

/// What the whole process knows of its Redis, and the circuit breaker in front of it: shared
/// by every worker's RedisClient users (the global rate limits), so one outage is one state
/// change and one log line, not one per worker.
///
/// The breaker opens after kFailuresToOpen decisions in a row that Redis did not answer in
/// time (or refused, or answered with an error). While it is open no decision asks Redis: each
/// falls back at once, so a dead or stalled Redis costs nothing per request. When its interval
/// is up one decision is let through as a trial; an answer closes the breaker, a failure opens
/// it again for twice as long, from kFirstInterval up to kMaxInterval (short enough that a
/// Redis back from a restart is used again within a second).
///
/// Thread-safe: the request path reads and writes atomics only; the mutex guards the last
/// error's text and the log line, on failures and state changes alone.
class RedisHealth {
public:
    static constexpr std::uint32_t kFailuresToOpen = 3;
    static constexpr std::chrono::milliseconds kFirstInterval{100};
    static constexpr std::chrono::milliseconds kMaxInterval{1000};

    using Clock = std::chrono::steady_clock;

    /// Whether a decision may ask Redis at `now`: true while the breaker is closed, and for the
    /// one trial of each interval once it is open.
    bool should_ask(Clock::time_point now) noexcept;
    /// Redis answered a decision in time.
    void record_success() noexcept;
    /// A decision failed: `what` says how ("timed out after 5 ms", "connection refused").
    void record_failure(Clock::time_point now, const std::string& what);

    enum class State { connecting, up, down };
    struct View {
        State state = State::connecting;
        std::uint32_t consecutive_failures = 0;
        /// While down: how long until the next trial (zero once it is due).
        std::chrono::milliseconds next_trial_in{0};
        std::chrono::milliseconds interval{0};  // the breaker's current interval, when open
        std::string last_error;
        std::uint64_t state_changes = 0;
    };
    View view(Clock::time_point now) const;

private:
    static std::int64_t ns(Clock::time_point t) noexcept {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    }

    std::atomic<std::uint32_t> consecutive_failures_{0};
    /// Zero while closed; else when the next trial may go (steady clock, ns).
    std::atomic<std::int64_t> open_until_{0};
    std::atomic<std::int64_t> interval_ns_{0};
    std::atomic<bool> trial_out_{false};
    std::atomic<bool> answered_once_{false};
    std::atomic<std::uint64_t> state_changes_{0};
    mutable std::mutex mutex_;  // last_error_ and the log lines
    std::string last_error_;
};

}  // namespace gateway
