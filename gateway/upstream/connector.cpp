#include "upstream/connector.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>

#include <algorithm>

namespace gateway {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

Task<Result<std::unique_ptr<UpstreamConnection>>> TcpConnector::connect(
    const Executor& executor, Clock::duration granularity, Clock::time_point deadline) {
    auto connection = std::make_unique<UpstreamConnection>(Transport(executor), granularity);
    connection->stream.expires_at(std::min(deadline, Clock::now() + connect_timeout_));
    boost::system::error_code ec;
    co_await connection->stream.transport().tcp().async_connect(
        endpoint_, asio::redirect_error(use_task, ec));
    ec = connection->stream.result(ec);
    if (ec == boost::beast::error::timeout) {
        co_return Error{Errc::upstream_timeout, "connecting to " + name_ + " took longer than " +
                                                    std::to_string(connect_timeout_.count()) +
                                                    " ms"};
    }
    if (ec) {
        co_return Error{Errc::upstream_unreachable,
                        "connecting to " + name_ + " failed: " + ec.message()};
    }
    connection->stream.transport().set_no_delay();
    co_return std::move(connection);
}

}  // namespace gateway
