#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "io/executor.hpp"
#include "upstream/connector.hpp"

namespace gateway {

/// Keep-alive connections to one upstream endpoint, owned by one worker thread (no locks).
/// At most `max_connections` are open at once, busy and idle together; a request that finds
/// none free waits for one until its deadline. Idle connections are reused most-recent-first,
/// so the warmest socket goes next and surplus ones age out at the back. New connections come
/// from the Connector it is given.
class ConnectionPool {
public:
    struct Lease {
        std::unique_ptr<UpstreamConnection> connection;
        bool reused = false;  // came from the idle list: the upstream may have closed it since
    };

    /// `name`: "upstream NAME", for error details (never its address). `shortest_timeout`: the
    /// shortest deadline the connections' users will set (their TimedStream granularity).
    ConnectionPool(Executor executor, std::string name, std::unique_ptr<Connector> connector,
                   std::chrono::milliseconds shortest_timeout, std::size_t max_connections);

    /// An idle connection right away, if there is one (what acquire() tries first). Each is
    /// checked first with one non-blocking peek: one on which anything arrived while it was
    /// idle (EOF, a reset, or bytes nobody asked for, such as a stray or late response) is
    /// closed, never reused, or those bytes would be read as the next client's answer.
    /// No coroutine: the usual case needs none.
    std::optional<Lease> take_idle();

    /// An idle connection (checked as take_idle's), or a new one. `fresh` skips the idle list
    /// (a retry after a reused connection failed).
    Task<Result<Lease>> acquire(bool fresh, std::chrono::steady_clock::time_point deadline);

    /// Hands a connection back: kept for reuse when `reusable`, closed otherwise.
    void release(std::unique_ptr<UpstreamConnection> connection, bool reusable);

    std::size_t open_connections() const noexcept { return open_; }
    const std::string& name() const noexcept { return name_; }

private:
    Task<Result<Lease>> connect(std::chrono::steady_clock::time_point deadline);
    void wake_one_waiter();

    Executor executor_;
    std::string name_;
    std::unique_ptr<Connector> connector_;
    std::chrono::milliseconds shortest_timeout_;
    std::size_t max_connections_;
    std::size_t open_ = 0;
    std::vector<std::unique_ptr<UpstreamConnection>> idle_;
    std::deque<Timer*> waiters_;
};

}  // namespace gateway
