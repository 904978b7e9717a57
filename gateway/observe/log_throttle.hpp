#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace gateway {

/// Lets at most one log line through per interval, across every thread that shares it, and
/// counts the ones it held back: a scanner's thousand failed handshakes a second must not
/// flood the log (the metric counts each of them).
class LogThrottle {
public:
    explicit LogThrottle(std::chrono::milliseconds interval = std::chrono::seconds(1))
        : interval_(interval) {}

    /// True when a line may be written now; `suppressed` is then how many were held back
    /// since the last one written.
    bool allow(std::uint64_t& suppressed) {
        const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count();
        std::int64_t next = next_allowed_.load(std::memory_order_relaxed);
        if (now < next || !next_allowed_.compare_exchange_strong(
                              next, now + interval_.count(), std::memory_order_relaxed)) {
            suppressed_.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        suppressed = suppressed_.exchange(0, std::memory_order_relaxed);
        return true;
    }

private:
    const std::chrono::nanoseconds interval_;
    std::atomic<std::int64_t> next_allowed_{0};
    std::atomic<std::uint64_t> suppressed_{0};
};

}  // namespace gateway
