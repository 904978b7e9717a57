#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace gateway {

/// An upstream's `max_in_flight` for the whole process: one counter of requests at once and
/// one of requests waiting, shared by every worker. Taking and giving back a slot is an atomic
/// operation each, no lock: the common case of a limit that is not reached costs two atomic
/// read-modify-writes per request.
///
/// Waiting requests queue on their own worker (AdmissionQueue); a worker that frees a slot hands
/// it to one of its own waiters, or, having none, gives it back and wakes one other worker that
/// has waiters (the only part behind a mutex, taken only while requests wait).
class AdmissionGate {
public:
    using Wake = std::function<void()>;

    /// A slot if fewer than `max` are taken.
    bool try_enter(std::size_t max) noexcept {
        auto taken = in_flight_.load();
        while (taken < static_cast<std::int64_t>(max)) {
            if (in_flight_.compare_exchange_weak(taken, taken + 1)) return true;
        }
        return false;
    }
    void leave() noexcept { in_flight_.fetch_sub(1); }

    /// A place in the queue if fewer than `max_pending` wait.
    bool try_wait(std::size_t max_pending) noexcept {
        auto waiting = pending_.load();
        while (waiting < static_cast<std::int64_t>(max_pending)) {
            if (pending_.compare_exchange_weak(waiting, waiting + 1)) return true;
        }
        return false;
    }
    void stop_waiting() noexcept { pending_.fetch_sub(1); }

    /// How long a request holds its slot, recently: a moving average (1/16 weight per sample)
    /// of the slots given back, what a queued request's expected wait is reckoned from.
    /// Concurrent updates may lose a sample, which an average can afford.
    void record_service(std::int64_t nanoseconds) noexcept {
        const auto average = service_ns_.load(std::memory_order_relaxed);
        service_ns_.store(average == 0 ? nanoseconds : average + (nanoseconds - average) / 16,
                          std::memory_order_relaxed);
    }
    std::int64_t service_ns() const noexcept { return service_ns_.load(std::memory_order_relaxed); }

    std::int64_t in_flight() const noexcept { return in_flight_.load(std::memory_order_relaxed); }
    /// Sequentially consistent: a worker that gives a slot back and then finds no waiter must
    /// not miss one that queued just before (the waiter retries after queueing, see
    /// AdmissionQueue::admit).
    std::int64_t pending() const noexcept { return pending_.load(); }

    /// A worker with waiters, and how to wake it (a post to its thread).
    void subscribe(const void* owner, Wake wake);
    void unsubscribe(const void* owner);
    /// Wakes one subscribed worker other than `self`, in turn.
    void wake_another(const void* self);

private:
    std::atomic<std::int64_t> in_flight_{0};
    std::atomic<std::int64_t> pending_{0};
    std::atomic<std::int64_t> service_ns_{0};
    std::mutex mutex_;
    std::vector<std::pair<const void*, Wake>> subscribers_;  // guarded by mutex_
    std::size_t next_ = 0;                                   // guarded by mutex_
};

}  // namespace gateway
