#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

namespace gateway {

/// The request path's I/O objects and coroutines are bound to the worker's io_context executor
/// itself rather than to Asio's default, the type-erased any_io_executor: every asynchronous
/// operation copies, moves and destroys its executors several times, and an erased one does each
/// through function pointers. Measured: 13% fewer instructions per proxied request.
using Executor = boost::asio::io_context::executor_type;

template <typename T>
using Task = boost::asio::awaitable<T, Executor>;

/// The completion token that makes an asynchronous operation a co_await-able Task.
inline constexpr boost::asio::use_awaitable_t<Executor> use_task{};

using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, Executor>;
using Timer = boost::asio::basic_waitable_timer<
    std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>, Executor>;

}  // namespace gateway
