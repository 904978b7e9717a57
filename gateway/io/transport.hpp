#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/error.hpp>
#include <boost/assert.hpp>
#include <boost/system/error_code.hpp>

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "io/executor.hpp"
#include "io/tls_stream.hpp"

namespace gateway {

/// The bytes one connection runs over, client side or upstream side: plain TCP, or TLS over
/// TCP. Everything that touches the socket itself (its options, a peek, a gathered send, a
/// half-close) is here, so the rest of the gateway is the same over either.
///
/// Why a socket and an optional TLS layer over it, not a template parameter or a virtual
/// interface: a template would turn the client connection, the pool, the forwarder and the
/// relay into header-only templates compiled twice; a virtual stream would need a type-erased
/// completion handler (Boost 1.74 has none, so one heap allocation per read and write). Here a
/// read or write costs one null test, the plain-TCP path keeps its non-blocking sendmsg, and
/// the TLS stream (io/tls_stream.hpp) is allocated only for a TLS connection, so an idle plain
/// one is no bigger than its socket. Measured against the socket used directly (what a
/// template would compile to): the same instructions per request within run-to-run noise
/// (README, Performance).
class Transport {
public:
    using executor_type = Executor;

    explicit Transport(Socket socket) : socket_(std::move(socket)) {}
    explicit Transport(const Executor& executor) : socket_(executor) {}
    /// Moves only while plain: the TLS layer refers to this object's socket.
    Transport(Transport&& other) noexcept : socket_(std::move(other.socket_)) {
        BOOST_ASSERT(!other.tls_);
    }
    Transport& operator=(Transport&&) = delete;

    executor_type get_executor() noexcept { return socket_.get_executor(); }

    /// The TCP socket underneath, TLS or not: for connecting, and for what is the kernel's.
    Socket& tcp() noexcept { return socket_; }
    const Socket& tcp() const noexcept { return socket_; }

    /// Puts TLS with the certificates and settings of `tls` (an OpenSSL context, which the
    /// connection then holds a reference to) over the socket, once the Transport is where it
    /// stays (in its TimedStream); the handshake is the caller's
    /// (`tls_stream()->async_handshake`), after connecting or accepting.
    TlsStream& start_tls(ssl_ctx_st* tls) {
        tls_ = std::make_unique<TlsStream>(socket_, tls);
        return *tls_;
    }
    /// The TLS stream, or null on plain TCP.
    TlsStream* tls_stream() noexcept { return tls_.get(); }
    bool is_tls() const noexcept { return tls_ != nullptr; }

    template <typename MutableBuffers, typename Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        if (tls_) return tls_->async_read_some(buffers, std::forward<Token>(token));
        return socket_.async_read_some(buffers, std::forward<Token>(token));
    }
    template <typename ConstBuffers, typename Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        if (tls_) return tls_->async_write_some(buffers, std::forward<Token>(token));
        return socket_.async_write_some(buffers, std::forward<Token>(token));
    }

    /// Sends small writes at once (no Nagle delay): a proxy's answers are whole messages.
    void set_no_delay();

    /// Writes what it can of `head` then `body` right now, without waiting: one non-blocking
    /// sendmsg on plain TCP, records sent at once over TLS. Answers the bytes taken
    /// (would-block is no error, just 0); the rest is for the asynchronous path.
    std::size_t send_now(std::string_view head, std::string_view body,
                         boost::system::error_code& ec) {
        if (tls_) return tls_->write_now(head, body, ec);
        return send_now_plain(head, body, ec);
    }

    /// True when something came in on a connection nobody is reading from: EOF, a reset, or
    /// bytes (a stray or late answer, a TLS alert). Looked at with one non-blocking peek, and
    /// over TLS in what OpenSSL has already read.
    bool has_unread_input_or_closed() {
        if (tls_ && tls_->has_buffered_input()) return true;
        bool closed = false;
        return peek_byte(closed) || closed;
    }

    /// The first byte waiting to be read, left in place; nothing when none is there yet or the
    /// connection is closed or broken (`closed` then says which).
    std::optional<unsigned char> peek_byte(bool& closed) {
        unsigned char byte = 0;
        const ssize_t n = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
        if (n == 1) return byte;
        return std::nullopt;
    }

    /// No more bytes will be sent: a FIN after what was written (plain TCP). Over TLS the
    /// close_notify goes first, when the caller sent it with `tls_stream()->async_shutdown`.
    void shutdown_send();
    /// Both directions end now, in the middle of a message: the peer must see it broken.
    void shutdown_both();
    void close();

    /// The peer's IP address, or "unknown".
    std::string remote_address() const;

private:
    // Defined here, in the header, because they run on every request: a call across files
    // costs more than the peek or the send's bookkeeping itself.
    std::size_t send_now_plain(std::string_view head, std::string_view body,
                               boost::system::error_code& ec) {
        iovec parts[2] = {{const_cast<char*>(head.data()), head.size()},
                          {const_cast<char*>(body.data()), body.size()}};
        msghdr message{};
        message.msg_iov = parts;
        message.msg_iovlen = body.empty() ? 1 : 2;
        while (true) {
            const ssize_t sent =
                ::sendmsg(socket_.native_handle(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (sent >= 0) return static_cast<std::size_t>(sent);
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                ec.assign(errno, boost::asio::error::get_system_category());
            }
            return 0;
        }
    }

    Socket socket_;
    std::unique_ptr<TlsStream> tls_;  // declared after the socket it refers to: goes first
};

}  // namespace gateway
