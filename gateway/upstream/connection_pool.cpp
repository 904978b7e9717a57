#include "upstream/connection_pool.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace gateway {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

ConnectionPool::ConnectionPool(Executor executor, std::string name,
                               std::unique_ptr<Connector> connector,
                               std::chrono::milliseconds shortest_timeout,
                               std::size_t max_connections)
    : executor_(std::move(executor)),
      name_(std::move(name)),
      connector_(std::move(connector)),
      shortest_timeout_(shortest_timeout),
      max_connections_(max_connections) {}

std::optional<ConnectionPool::Lease> ConnectionPool::take_idle() {
    // Anything that came in on an idle connection (the upstream's close or reset, or bytes nobody
    // asked for) means it cannot carry a request.
    while (!idle_.empty() && idle_.back()->stream.transport().has_unread_input_or_closed()) {
        idle_.pop_back();
        --open_;
    }
    if (idle_.empty()) return std::nullopt;
    Lease lease{std::move(idle_.back()), true};
    idle_.pop_back();
    return lease;
}

Task<Result<ConnectionPool::Lease>> ConnectionPool::acquire(bool fresh, Clock::time_point deadline) {
    while (true) {
        if (!fresh) {
            if (auto lease = take_idle()) co_return std::move(*lease);
        }
        if (open_ < max_connections_) co_return co_await connect(deadline);
        if (fresh && !idle_.empty()) {
            // At the cap but asked for a new connection: trade the oldest idle one for it.
            idle_.erase(idle_.begin());
            --open_;
            continue;
        }
        Timer timer(executor_, deadline);
        waiters_.push_back(&timer);
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(use_task, ec));
        if (ec != asio::error::operation_aborted) {  // the deadline passed, nobody woke us
            const auto self = std::find(waiters_.begin(), waiters_.end(), &timer);
            if (self != waiters_.end()) waiters_.erase(self);
            co_return Error{Errc::upstream_timeout,
                            "no free connection to " + name_ + " before the deadline (" +
                                std::to_string(max_connections_) + " connections busy)"};
        }
    }
}

Task<Result<ConnectionPool::Lease>> ConnectionPool::connect(Clock::time_point deadline) {
    ++open_;
    auto connected = co_await connector_->connect(executor_, shortest_timeout_, deadline);
    if (!connected) {
        --open_;
        wake_one_waiter();
        co_return std::move(connected).error();
    }
    co_return Lease{std::move(*connected), false};
}

void ConnectionPool::release(std::unique_ptr<UpstreamConnection> connection, bool reusable) {
    if (reusable && connection->buffer.size() == 0) {
        connection->stream.expires_never();
        idle_.push_back(std::move(connection));
    } else {
        connection->stream.transport().shutdown_both();
        connection->stream.close();
        --open_;
    }
    wake_one_waiter();
}

void ConnectionPool::wake_one_waiter() {
    if (waiters_.empty()) return;
    Timer* waiter = waiters_.front();
    waiters_.pop_front();
    waiter->cancel();
}

}  // namespace gateway
