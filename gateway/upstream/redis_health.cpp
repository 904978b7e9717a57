#include "upstream/redis_health.hpp"

#include <algorithm>
#include <iostream>

namespace gateway {

bool RedisHealth::should_ask(Clock::time_point now) noexcept {
    std::int64_t until = open_until_.load(std::memory_order_acquire);
    if (until == 0) return true;
    if (ns(now) < until) return false;
    // The interval is up: the first decision to get here is the trial; the others keep falling
    // back until it is answered or the next interval is up.
    const std::int64_t next = ns(now) + interval_ns_.load(std::memory_order_relaxed);
    if (!open_until_.compare_exchange_strong(until, next, std::memory_order_acq_rel)) return false;
    trial_out_.store(true, std::memory_order_release);
    return true;
}

void RedisHealth::record_success() noexcept {
    if (!answered_once_.load(std::memory_order_relaxed)) answered_once_.store(true, std::memory_order_relaxed);
    if (consecutive_failures_.load(std::memory_order_relaxed) != 0) {
        consecutive_failures_.store(0, std::memory_order_relaxed);
    }
    if (open_until_.load(std::memory_order_acquire) == 0) return;
    std::lock_guard lock(mutex_);
    if (open_until_.exchange(0, std::memory_order_acq_rel) == 0) return;  // another closed it
    trial_out_.store(false, std::memory_order_relaxed);
    interval_ns_.store(0, std::memory_order_relaxed);
    state_changes_.fetch_add(1, std::memory_order_relaxed);
    std::cerr << "gateway: redis answers again; global rate limits are decided by it again\n";
}

void RedisHealth::record_failure(Clock::time_point now, const std::string& what) {
    const std::uint32_t failures = consecutive_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
    std::lock_guard lock(mutex_);
    last_error_ = what;
    const std::int64_t until = open_until_.load(std::memory_order_acquire);
    if (until == 0) {
        if (failures < kFailuresToOpen) return;
        const auto interval = std::chrono::nanoseconds(kFirstInterval).count();
        interval_ns_.store(interval, std::memory_order_relaxed);
        open_until_.store(ns(now) + interval, std::memory_order_release);
        state_changes_.fetch_add(1, std::memory_order_relaxed);
        std::cerr << "gateway: redis failed " << failures << " decisions in a row (last: " << what
                  << "); global rate limits fall back (on_redis_error) without asking it, "
                     "trying again every " << kFirstInterval.count() << " ms or more\n";
        return;
    }
    // Open already: only the trial's failure lengthens the interval (the decisions that were
    // under way when it opened fail too, and must not double it each).
    if (!trial_out_.exchange(false, std::memory_order_acq_rel)) return;
    const auto longest = std::chrono::nanoseconds(kMaxInterval).count();
    const std::int64_t interval = std::min(longest, interval_ns_.load(std::memory_order_relaxed) * 2);
    interval_ns_.store(interval, std::memory_order_relaxed);
    open_until_.store(ns(now) + interval, std::memory_order_release);
}

RedisHealth::View RedisHealth::view(Clock::time_point now) const {
    View view;
    view.consecutive_failures = consecutive_failures_.load(std::memory_order_relaxed);
    const std::int64_t until = open_until_.load(std::memory_order_acquire);
    if (until != 0) {
        view.state = State::down;
        view.next_trial_in = std::chrono::milliseconds(std::max<std::int64_t>(0, (until - ns(now)) / 1'000'000));
        view.interval = std::chrono::milliseconds(interval_ns_.load(std::memory_order_relaxed) / 1'000'000);
    } else if (answered_once_.load(std::memory_order_relaxed)) {
        view.state = State::up;
    }
    view.state_changes = state_changes_.load(std::memory_order_relaxed);
    std::lock_guard lock(mutex_);
    view.last_error = last_error_;
    return view;
}

}  // namespace gateway
