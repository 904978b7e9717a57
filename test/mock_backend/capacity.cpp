#include "capacity.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>

namespace mock_backend {

Capacity::Counts Capacity::counts() const noexcept {
    return {in_service_.load(std::memory_order_relaxed), waiting_.load(std::memory_order_relaxed),
            max_seen_.load(std::memory_order_relaxed)};
}

void Capacity::reset_max_seen() noexcept {
    max_seen_.store(in_service_.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

void Capacity::raise_max_seen(std::uint64_t in_service) noexcept {
    std::uint64_t seen = max_seen_.load(std::memory_order_relaxed);
    while (seen < in_service &&
           !max_seen_.compare_exchange_weak(seen, in_service, std::memory_order_relaxed)) {
    }
}

void Capacity::enter(Ticket& ticket) {
    if (config_.max_concurrency == 0) {
        // No queue to keep in order: atomics alone, no lock on the benchmarks' path.
        ticket.in_service_ = true;
        raise_max_seen(in_service_.fetch_add(1, std::memory_order_relaxed) + 1);
        return;
    }
    const std::lock_guard lock{mutex_};
    // A newcomer never overtakes a waiter, even when a slot has just been freed.
    if (queue_.empty() && in_service_.load(std::memory_order_relaxed) < config_.max_concurrency) {
        ticket.in_service_ = true;
        raise_max_seen(in_service_.fetch_add(1, std::memory_order_relaxed) + 1);
        return;
    }
    ticket.queued_ = true;
    queue_.push_back(&ticket);
    waiting_.fetch_add(1, std::memory_order_relaxed);
}

void Capacity::leave(Ticket& ticket) {
    if (config_.max_concurrency == 0) {
        in_service_.fetch_sub(1, std::memory_order_relaxed);
        return;
    }
    const std::lock_guard lock{mutex_};
    if (!ticket.in_service_) {
        // Still queued: its connection's coroutine is being destroyed with its io_context.
        queue_.erase(std::find(queue_.begin(), queue_.end(), &ticket));
        waiting_.fetch_sub(1, std::memory_order_relaxed);
        return;
    }
    if (queue_.empty()) {
        in_service_.fetch_sub(1, std::memory_order_relaxed);
        return;
    }
    // The slot passes straight to the oldest waiter: in_service_ is unchanged.
    Ticket* next = queue_.front();
    queue_.pop_front();
    waiting_.fetch_sub(1, std::memory_order_relaxed);
    next->in_service_ = true;
    // Safe to use `next` from the posted handler: a queued ticket is only ever woken by this
    // post, so it is still waiting in admitted() when the handler runs on its thread. If its
    // io_context is destroyed first, the handler is destroyed without running.
    net::post(next->executor_, [next] { next->wake_.cancel(); });
}

Capacity::Ticket::Ticket(Capacity& capacity, const net::any_io_executor& executor)
    : capacity_{capacity},
      executor_{executor},
      wake_{executor, net::steady_timer::time_point::max()} {
    capacity_.enter(*this);
}

Capacity::Ticket::~Ticket() {
    capacity_.leave(*this);
}

net::awaitable<void> Capacity::Ticket::admitted() {
    // queued_ is only written by the constructor, on this thread. A queued ticket must wait
    // even if it was granted meanwhile: the grant's posted cancel is still on its way.
    if (!queued_) co_return;
    error_code ec;
    co_await wake_.async_wait(with_ec(ec));
}

net::awaitable<bool> Capacity::Ticket::serve() {
    if (capacity_.config_.service_time.count() == 0) co_return true;
    net::steady_timer timer{executor_, capacity_.config_.service_time};
    error_code ec;
    co_await timer.async_wait(with_ec(ec));
    co_return !ec;
}

}  // namespace mock_backend
