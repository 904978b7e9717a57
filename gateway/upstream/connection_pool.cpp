#include "upstream/connection_pool.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace gateway {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

ConnectionPool::ConnectionPool(Executor executor, std::string name,
                               asio::ip::tcp::endpoint endpoint,
                               std::chrono::milliseconds connect_timeout,
                               std::chrono::milliseconds shortest_timeout,
                               std::size_t max_connections)
    : executor_(std::move(executor)),
      name_(std::move(name)),
      endpoint_(endpoint),
      connect_timeout_(connect_timeout),
      shortest_timeout_(std::min(connect_timeout, shortest_timeout)),
      max_connections_(max_connections) {}

namespace {

// True when the upstream has closed (or reset) an idle connection, or sent bytes nobody asked
// for: either way the connection cannot carry a request.
bool is_unusable(Socket& socket) {
    char byte = 0;
    const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
}

}  // namespace

std::optional<ConnectionPool::Lease> ConnectionPool::take_idle() {
    while (!idle_.empty() && is_unusable(idle_.back()->stream.socket())) {
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
    auto connection = std::make_unique<UpstreamConnection>(executor_, shortest_timeout_);
    const auto connect_deadline = std::min(deadline, Clock::now() + connect_timeout_);
    connection->stream.expires_at(connect_deadline);
    boost::system::error_code ec;
    co_await connection->stream.socket().async_connect(
        endpoint_, asio::redirect_error(use_task, ec));
    ec = connection->stream.result(ec);
    if (ec) {
        --open_;
        wake_one_waiter();
        if (ec == boost::beast::error::timeout) {
            const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
                connect_timeout_);
            co_return Error{Errc::upstream_timeout, "connecting to " + name_ + " took longer than " +
                                                        std::to_string(waited.count()) + " ms"};
        }
        co_return Error{Errc::upstream_unreachable, "connecting to " + name_ + " failed: " +
                                                        ec.message()};
    }
    boost::system::error_code ignored;
    connection->stream.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    co_return Lease{std::move(connection), false};
}

void ConnectionPool::release(std::unique_ptr<UpstreamConnection> connection, bool reusable) {
    if (reusable && connection->buffer.size() == 0) {
        connection->stream.expires_never();
        idle_.push_back(std::move(connection));
    } else {
        boost::system::error_code ignored;
        connection->stream.socket().shutdown(Socket::shutdown_both, ignored);
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
