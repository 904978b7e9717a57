#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <memory>

#include "io/executor.hpp"
#include "io/transport.hpp"

namespace gateway {

/// A connection's Transport (plain TCP or TLS) with a deadline, for Beast's HTTP reads and
/// writes (an AsyncReadStream and AsyncWriteStream).
///
/// Why not beast::tcp_stream: it arms and cancels a timer around every read and write, so a
/// proxied request cost a dozen timer operations, each moving Asio's earliest deadline and with
/// it a timerfd_settime syscall. Here the deadline is a plain value that reads and writes move
/// freely; one watchdog timer per connection checks it. The watchdog is never armed later than
/// `now + granularity`, and every deadline set is at least `granularity` away, so moving a
/// deadline never has to re-arm the timer: it wakes at most once per `granularity` on a busy
/// connection, re-arms itself, and never while idle without a deadline. When a deadline passes
/// the connection is closed, so the operation in progress ends; `timed_out()` then tells it apart
/// from a peer's close, and `result()` turns its error into beast::error::timeout.
class TimedStream {
public:
    using executor_type = Executor;
    using Clock = std::chrono::steady_clock;

    /// `granularity`: the shortest timeout this stream will be given.
    TimedStream(Transport transport, Clock::duration granularity);
    TimedStream(const executor_type& executor, Clock::duration granularity);
    ~TimedStream();
    TimedStream(const TimedStream&) = delete;
    TimedStream& operator=(const TimedStream&) = delete;

    executor_type get_executor() noexcept { return state_->transport.get_executor(); }
    Transport& transport() noexcept { return state_->transport; }

    void expires_after(Clock::duration timeout) { expires_at(Clock::now() + timeout); }
    void expires_at(Clock::time_point deadline);
    void expires_never() { state_->deadline = Clock::time_point::max(); }
    /// The deadline passed and the socket was closed for it.
    bool timed_out() const noexcept { return state_->timed_out; }
    /// `ec`, or beast::error::timeout when the operation ended because the deadline passed.
    boost::system::error_code result(const boost::system::error_code& ec) const;

    void close();

    template <typename MutableBuffers, typename Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        return state_->transport.async_read_some(buffers, std::forward<Token>(token));
    }
    template <typename ConstBuffers, typename Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        return state_->transport.async_write_some(buffers, std::forward<Token>(token));
    }

private:
    // Shared with the watchdog's pending wait, which may still run after the stream is gone.
    struct State {
        State(Transport t, Clock::duration g)
            : transport(std::move(t)), timer(transport.get_executor()), granularity(g) {}
        State(const Executor& executor, Clock::duration g)
            : transport(executor), timer(executor), granularity(g) {}
        Transport transport;
        Timer timer;
        Clock::duration granularity;
        Clock::time_point deadline = Clock::time_point::max();
        Clock::time_point armed_at = Clock::time_point::max();
        bool waiting = false;
        bool timed_out = false;
    };
    static void arm(const std::shared_ptr<State>& state);

    std::shared_ptr<State> state_;
};

}  // namespace gateway
