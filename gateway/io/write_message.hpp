#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>
#include <string>
#include <string_view>

#include "io/executor.hpp"
#include "pipeline/head_writer.hpp"

namespace gateway {

/// Writes a message's head and body, both in memory, in one gathered write: usually one
/// sendmsg. Answers the bytes written; `ec` tells how it ended, deadlines are the stream's.
/// Not a coroutine itself (the operation copies the two buffer views), so no frame of its own.
template <typename Stream>
Task<std::size_t> write_head_and_body(Stream& stream, std::string_view head, std::string_view body,
                                      boost::system::error_code& ec) {
    const std::array<boost::asio::const_buffer, 2> parts{boost::asio::buffer(head),
                                                         boost::asio::buffer(body)};
    return boost::asio::async_write(stream, parts, boost::asio::redirect_error(use_task, ec));
}

/// Writes a whole response whose body is in memory and already framed (Content-Length set, or
/// no body), its head written by append_head.
template <typename Stream>
Task<std::size_t> write_message(
    Stream& stream, const boost::beast::http::response<boost::beast::http::string_body>& message,
    boost::system::error_code& ec) {
    std::string head;
    head.reserve(512);
    append_head(head, message.base());
    co_return co_await write_head_and_body(stream, head, message.body(), ec);
}

}  // namespace gateway
