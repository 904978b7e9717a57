#include "io/transport.hpp"

#include <boost/asio/error.hpp>

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

namespace gateway {

namespace asio = boost::asio;

void Transport::set_no_delay() {
    boost::system::error_code ignored;
    tcp().set_option(asio::ip::tcp::no_delay(true), ignored);
}

std::size_t Transport::send_now(std::string_view head, std::string_view body,
                                boost::system::error_code& ec) {
    if (is_tls()) return 0;
    iovec parts[2] = {{const_cast<char*>(head.data()), head.size()},
                      {const_cast<char*>(body.data()), body.size()}};
    msghdr message{};
    message.msg_iov = parts;
    message.msg_iovlen = body.empty() ? 1 : 2;
    while (true) {
        const ssize_t sent = ::sendmsg(tcp().native_handle(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (sent >= 0) return static_cast<std::size_t>(sent);
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            ec.assign(errno, asio::error::get_system_category());
        }
        return 0;
    }
}

bool Transport::has_unread_input_or_closed() {
    char byte = 0;
    const ssize_t n = ::recv(tcp().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
}

void Transport::shutdown_send() {
    boost::system::error_code ignored;
    tcp().shutdown(Socket::shutdown_send, ignored);
}

void Transport::shutdown_both() {
    boost::system::error_code ignored;
    tcp().shutdown(Socket::shutdown_both, ignored);
}

void Transport::close() {
    boost::system::error_code ignored;
    tcp().close(ignored);
}

std::string Transport::remote_address() const {
    boost::system::error_code ec;
    const auto remote = tcp().remote_endpoint(ec);
    return ec ? std::string("unknown") : remote.address().to_string();
}

}  // namespace gateway
