#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>

#include "config/config.hpp"
#include "core/result.hpp"
#include "io/executor.hpp"
#include "upstream/upstream_state.hpp"

namespace gateway {

class AdmissionQueue;

/// One of an upstream's max_in_flight slots, held for as long as its request is with the
/// upstream (a streamed answer included); given back, or handed to a waiting request, when it
/// goes. Empty when the upstream has no limit.
class InFlightSlot {
public:
    InFlightSlot() = default;
    explicit InFlightSlot(std::shared_ptr<AdmissionQueue> queue) : queue_(std::move(queue)) {}
    InFlightSlot(InFlightSlot&&) noexcept = default;
    InFlightSlot& operator=(InFlightSlot&& other) noexcept {
        release();
        queue_ = std::move(other.queue_);
        return *this;
    }
    ~InFlightSlot() { release(); }

    /// When the request went to the upstream with it: the time until release is one sample
    /// of the upstream's service time.
    void started(std::chrono::steady_clock::time_point at) noexcept { started_ = at; }

private:
    void release() noexcept;
    std::shared_ptr<AdmissionQueue> queue_;
    std::chrono::steady_clock::time_point started_{};
};

/// One worker's side of an upstream's AdmissionGate: its waiting requests, first come first
/// served, each with its queue_timeout_ms. Used on the worker's thread only; other workers
/// reach it through `post_here`, which runs a task on that thread.
class AdmissionQueue : public std::enable_shared_from_this<AdmissionQueue> {
public:
    using Post = std::function<void(std::function<void()>)>;

    AdmissionQueue(Executor executor, std::shared_ptr<UpstreamState> state, Post post_here)
        : executor_(std::move(executor)), state_(std::move(state)), post_here_(std::move(post_here)) {}
    ~AdmissionQueue();

    /// A slot at once if one is free and nobody waits for one: the usual case, without a
    /// coroutine. Empty otherwise (then admit() queues).
    std::optional<InFlightSlot> try_admit(const UpstreamConfig& upstream);

    /// A slot at once, or after waiting for one; or, beyond max_in_flight + max_pending or
    /// after queue_timeout_ms, Errc::upstream_overloaded (with Retry-After).
    Task<Result<InFlightSlot>> admit(const UpstreamConfig& upstream);

private:
    friend class InFlightSlot;
    struct Waiter {
        Waiter(Executor executor, AdmissionQueue& queue) : timer(std::move(executor)), queue(queue) {}
        Waiter(const Waiter&) = delete;
        Waiter& operator=(const Waiter&) = delete;
        // A waiting coroutine destroyed with its worker leaves no dangling entry behind.
        ~Waiter() {
            if (!granted) queue.forget(this);
        }
        Timer timer;
        AdmissionQueue& queue;
        bool granted = false;
    };

    void release(std::chrono::steady_clock::time_point started) noexcept;
    /// Hands free slots to the waiters, oldest first (after a wake from another worker, and
    /// after queueing, in case a slot came free meanwhile).
    void admit_waiters();
    void grant_front();
    void forget(Waiter* waiter);

    Executor executor_;
    std::shared_ptr<UpstreamState> state_;
    Post post_here_;
    std::size_t max_in_flight_ = 0;  // the limit of the latest request's config
    std::deque<Waiter*> waiters_;
};

}  // namespace gateway
