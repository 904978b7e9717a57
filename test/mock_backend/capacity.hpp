#pragma once

#include "asio_types.hpp"  // first: the <utility> workaround for Asio's coroutine headers

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace mock_backend {

/// A backend of fixed capacity (--max-concurrency, --service-time-ms): every backend request
/// (not /health, not /__mock/*) takes `service_time`, and at most `max_concurrency` of them
/// are in service at once across all threads; the others wait, first come first served, for
/// a slot. A request is in service from the moment it holds a slot until its response is
/// written, so a fault that holds the connection (hang, delay-MS) holds its slot too, as a
/// stuck worker of a real backend would.
///
/// Without a cap every request is in service from its head read to its response written, so
/// max_seen is then the most requests the mock ever had in progress at once: how a test
/// proves that the gateway never sends an upstream more than max_in_flight.
class Capacity {
public:
    struct Config {
        unsigned max_concurrency = 0;  // 0: no limit
        std::chrono::milliseconds service_time{0};
    };

    /// GET /__mock/concurrency. Read without a lock, so the three may be a moment apart.
    struct Counts {
        std::uint64_t in_service = 0;
        std::uint64_t waiting = 0;
        std::uint64_t max_seen = 0;  // highest in_service since start or reset_max_seen()
    };

    class Ticket;

    explicit Capacity(Config config) : config_{config} {}
    Capacity(const Capacity&) = delete;
    Capacity& operator=(const Capacity&) = delete;

    const Config& config() const noexcept { return config_; }
    Counts counts() const noexcept;

    /// Starts max_seen again from the requests in service now (0 when the mock is idle).
    void reset_max_seen() noexcept;

private:
    void enter(Ticket& ticket);
    void leave(Ticket& ticket);
    void raise_max_seen(std::uint64_t in_service) noexcept;

    const Config config_;
    std::atomic<std::uint64_t> in_service_{0};
    std::atomic<std::uint64_t> waiting_{0};
    std::atomic<std::uint64_t> max_seen_{0};
    /// With a cap: guards queue_, and makes "a slot is free" and taking it one step.
    std::mutex mutex_;
    std::deque<Ticket*> queue_;  // waiting tickets, oldest first
};

/// One backend request's claim on the capacity, held from its head read until its response
/// is written (the ticket's lifetime). Lives in the connection's coroutine frame, so its
/// address is stable while it is queued.
class Capacity::Ticket {
public:
    /// In service at once when a slot is free (always, without a cap), queued otherwise.
    Ticket(Capacity& capacity, const net::any_io_executor& executor);
    /// Gives the slot to the oldest waiter, or leaves the queue (only when shutting down).
    ~Ticket();
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;

    /// Waits, without blocking the thread, until the ticket holds a slot. Must be awaited
    /// right after construction, with no co_await in between: a grant posts its wake-up to
    /// this thread and counts on finding the ticket waiting.
    net::awaitable<void> admitted();

    /// Waits out the service time; false only when the server is shutting down.
    net::awaitable<bool> serve();

private:
    friend class Capacity;

    Capacity& capacity_;
    net::any_io_executor executor_;
    /// Never expires: the thread that frees a slot wakes this ticket by posting a cancel to
    /// the ticket's own executor (timers are not thread-safe; posting is).
    net::steady_timer wake_;
    bool queued_ = false;      // set once by enter(): admitted() has to wait for a grant
    bool in_service_ = false;  // with a cap, guarded by capacity_.mutex_
};

}  // namespace mock_backend
