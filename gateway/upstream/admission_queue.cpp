#include "upstream/admission_queue.hpp"

#include <boost/asio/redirect_error.hpp>

#include <algorithm>

namespace gateway {

namespace asio = boost::asio;

namespace {

/// What a refused request is told to wait: a slot frees within a request's time, and a client
/// retrying at once would only add to the queue it was refused from.
constexpr const char* kRetryAfterSeconds = "1";

Error overloaded(std::string detail) {
    Error error{Errc::upstream_overloaded, std::move(detail)};
    error.headers.emplace_back("Retry-After", kRetryAfterSeconds);
    return error;
}

}  // namespace

void InFlightSlot::release() noexcept {
    if (auto queue = std::move(queue_)) queue->release(started_);
}

AdmissionQueue::~AdmissionQueue() { state_->gate().unsubscribe(this); }

std::optional<InFlightSlot> AdmissionQueue::try_admit(const UpstreamConfig& upstream) {
    AdmissionGate& gate = state_->gate();
    max_in_flight_ = upstream.max_in_flight;
    // Newcomers do not overtake waiting requests.
    if (gate.pending() == 0 && gate.try_enter(max_in_flight_)) return InFlightSlot(shared_from_this());
    return std::nullopt;
}

Task<Result<InFlightSlot>> AdmissionQueue::admit(const UpstreamConfig& upstream) {
    AdmissionGate& gate = state_->gate();
    if (auto slot = try_admit(upstream)) co_return std::move(*slot);
    const std::string name = "upstream " + upstream.name;
    // A request that would wait longer than half its queue_timeout_ms, by the upstream's
    // recent service time, is refused now rather than after the timeout: under overload the
    // excess gets its 503 in microseconds, and the requests that do queue are served in time
    // (a queue that is always full makes every refusal a late one, as HAProxy's do).
    const std::int64_t expected_wait =
        (gate.pending() + 1) * gate.service_ns() / static_cast<std::int64_t>(upstream.max_in_flight);
    if (expected_wait > std::chrono::nanoseconds(upstream.queue_timeout).count() / 2) {
        state_->overflow_expected_wait.fetch_add(1, std::memory_order_relaxed);
        co_return overloaded(name + " has its " + std::to_string(upstream.max_in_flight) +
                             " requests in flight (max_in_flight) and " +
                             std::to_string(gate.pending()) + " waiting: the wait would be about " +
                             std::to_string(expected_wait / 1'000'000) +
                             " ms, too long for queue_timeout_ms " +
                             std::to_string(upstream.queue_timeout.count()) + "; try again later");
    }
    if (!gate.try_wait(upstream.max_pending)) {
        state_->overflow_queue_full.fetch_add(1, std::memory_order_relaxed);
        co_return overloaded(name + " has its " + std::to_string(upstream.max_in_flight) +
                             " requests in flight (max_in_flight) and " +
                             std::to_string(upstream.max_pending) +
                             " waiting (max_pending); try again later");
    }
    const auto self = shared_from_this();  // outlives the waiter below
    Waiter waiter(executor_, *this);
    waiter.timer.expires_after(upstream.queue_timeout);
    waiters_.push_back(&waiter);
    if (waiters_.size() == 1) {
        std::weak_ptr<AdmissionQueue> weak = self;
        gate.subscribe(this, [post = post_here_, weak] {
            post([weak] {
                if (auto queue = weak.lock()) queue->admit_waiters();
            });
        });
    }
    // A slot given back between the try above and the queueing saw no waiter to wake.
    admit_waiters();
    if (!waiter.granted) {
        boost::system::error_code ec;
        co_await waiter.timer.async_wait(asio::redirect_error(use_task, ec));
    }
    if (!waiter.granted) {
        forget(&waiter);
        waiter.granted = true;  // no longer queued: nothing for its destructor to undo
        state_->overflow_queue_timeout.fetch_add(1, std::memory_order_relaxed);
        co_return overloaded(name + " had no free slot of its " +
                             std::to_string(upstream.max_in_flight) + " (max_in_flight) within " +
                             std::to_string(upstream.queue_timeout.count()) +
                             " ms (queue_timeout_ms); try again later");
    }
    co_return InFlightSlot(self);
}

void AdmissionQueue::grant_front() {
    Waiter* waiter = waiters_.front();
    waiters_.pop_front();
    state_->gate().stop_waiting();
    waiter->granted = true;
    waiter->timer.cancel();
    if (waiters_.empty()) state_->gate().unsubscribe(this);
}

void AdmissionQueue::admit_waiters() {
    AdmissionGate& gate = state_->gate();
    while (!waiters_.empty() && gate.try_enter(max_in_flight_)) grant_front();
    // Woken for waiters that a slot of our own has served meanwhile: the free slot that woke us
    // is for a request waiting elsewhere, so the wake goes on rather than getting lost.
    if (waiters_.empty() && gate.pending() > 0 && gate.try_enter(max_in_flight_)) {
        gate.leave();
        gate.wake_another(this);
    }
}

void AdmissionQueue::forget(Waiter* waiter) {
    const auto it = std::find(waiters_.begin(), waiters_.end(), waiter);
    if (it == waiters_.end()) return;
    waiters_.erase(it);
    state_->gate().stop_waiting();
    if (waiters_.empty()) state_->gate().unsubscribe(this);
}

void AdmissionQueue::release(std::chrono::steady_clock::time_point started) noexcept {
    if (started != std::chrono::steady_clock::time_point{}) {
        state_->gate().record_service((std::chrono::steady_clock::now() - started).count());
    }
    // The slot goes straight to a request waiting here, if there is one.
    if (!waiters_.empty()) {
        grant_front();
        return;
    }
    AdmissionGate& gate = state_->gate();
    gate.leave();
    if (gate.pending() > 0) gate.wake_another(this);
}

}  // namespace gateway
