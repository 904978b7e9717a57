#pragma once

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>; it has to be
// in scope before any Asio coroutine header, so every I/O file includes this header first.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>

namespace mock_backend {

namespace net = boost::asio;
using error_code = boost::system::error_code;
using Stream = boost::beast::tcp_stream;

/// Deadline for each write; a peer that stops reading for this long is dropped.
inline constexpr std::chrono::seconds kWriteTimeout{30};

/// The completion token for every async call in the mock: errors come back in `ec` instead
/// of as exceptions, which keeps the control flow of a session explicit.
inline auto with_ec(error_code& ec) {
    return net::redirect_error(net::use_awaitable, ec);
}

}  // namespace mock_backend
