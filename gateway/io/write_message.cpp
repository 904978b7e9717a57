#include "io/write_message.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>
#include <string>


namespace gateway {

namespace asio = boost::asio;

namespace {

/// One non-blocking sendmsg of both parts: answers what the socket's send buffer took now.
/// Would-block is not an error, just nothing taken.
std::size_t send_now(Socket& socket, std::string_view head, std::string_view body,
                     boost::system::error_code& ec) {
    iovec parts[2] = {{const_cast<char*>(head.data()), head.size()},
                      {const_cast<char*>(body.data()), body.size()}};
    msghdr message{};
    message.msg_iov = parts;
    message.msg_iovlen = body.empty() ? 1 : 2;
    while (true) {
        const ssize_t sent = ::sendmsg(socket.native_handle(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (sent >= 0) return static_cast<std::size_t>(sent);
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            ec.assign(errno, asio::error::get_system_category());
        }
        return 0;
    }
}

}  // namespace

Task<std::size_t> write_head_and_body(TimedStream& stream, std::string_view head,
                                      std::string_view body, boost::system::error_code& ec) {
    const std::size_t sent = send_now(stream.socket(), head, body, ec);
    if (ec || sent == head.size() + body.size()) co_return sent;
    // The socket took part of it, or nothing: the rest goes out as it makes room.
    const std::string_view head_rest = sent < head.size() ? head.substr(sent) : std::string_view();
    const std::string_view body_rest = sent < head.size() ? body : body.substr(sent - head.size());
    const std::array<asio::const_buffer, 2> rest{asio::buffer(head_rest), asio::buffer(body_rest)};
    const std::size_t later =
        co_await asio::async_write(stream, rest, asio::redirect_error(use_task, ec));
    co_return sent + later;
}

}  // namespace gateway
