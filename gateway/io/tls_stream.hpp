#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <type_traits>

#include "io/executor.hpp"

struct bio_st;
struct ssl_st;
struct ssl_ctx_st;

namespace gateway {

/// What a TLS step needs before it can go on: nothing (it finished, well or not), or the
/// socket to become readable or writable.
enum class TlsWant { nothing, read, write };

struct TlsStep {
    TlsWant want = TlsWant::nothing;
    boost::system::error_code ec{};
    std::size_t bytes = 0;
};

/// TLS over a socket that lives elsewhere (in the Transport that owns both), with OpenSSL
/// reading and writing the socket itself.
///
/// Why not Asio's ssl::stream: it runs OpenSSL over a pair of memory BIOs and moves the records
/// through two 17 KiB buffers of its own, kept for the connection's whole life: every record is
/// copied once more each way, and an idle connection held 64 KiB (nginx: 15).
///
/// Here OpenSSL writes to the socket itself, through a small BIO of ours (a non-blocking send
/// with MSG_NOSIGNAL: no SIGPIPE), and waits for room only when the kernel's buffer is full.
/// Reads come through a "carry": when OpenSSL wants bytes it does not have, Asio reads the
/// socket into it (one recv, speculative, as on plain TCP) and OpenSSL takes them from there.
/// Not a readiness wait and then OpenSSL's own recv: Asio re-arms epoll with an epoll_ctl for
/// every wait, and OpenSSL's recv before it would fail with EAGAIN each time (measured: 0.85
/// epoll_ctl and 0.9 more recv per proxied request). The carry starts at 1 KiB, which holds a
/// request's record, and grows while reads fill it, so an idle connection holds 1 KiB and
/// OpenSSL's buffers are given back (SSL_MODE_RELEASE_BUFFERS).
///
/// Errors are those of Asio's stream, so callers read them the same way: OpenSSL's packed error
/// in asio::error::get_ssl_category(), asio::error::eof for a close_notify, and
/// asio::ssl::error::stream_truncated for a FIN without one.
///
/// One read and one write may be in progress at once; never two of the same kind.
class TlsStream {
public:
    enum class Role { client, server };
    /// The largest record's payload: a write sends at most this much in one go.
    static constexpr std::size_t kMaxRecord = 16384;

    TlsStream(Socket& socket, ssl_ctx_st* context);
    ~TlsStream();
    TlsStream(const TlsStream&) = delete;
    TlsStream& operator=(const TlsStream&) = delete;

    ssl_st* native_handle() noexcept { return ssl_; }
    Socket& socket() noexcept { return socket_; }

    /// Bytes read from the socket that OpenSSL has not given out yet (in the carry, or in its
    /// own buffer): something came in that nobody has looked at.
    bool has_buffered_input() const;

    template <typename Token>
    auto async_handshake(Role role, Token&& token) {
        begin_handshake(role);
        return run<void(boost::system::error_code)>([this] { return handshake_step(); },
                                                    std::forward<Token>(token));
    }

    template <typename MutableBuffers, typename Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        const boost::asio::mutable_buffer into = first_nonempty(buffers);
        return run<void(boost::system::error_code, std::size_t)>(
            [this, into] { return read_step(into.data(), into.size()); }, std::forward<Token>(token));
    }

    template <typename ConstBuffers, typename Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        // The record is gathered once, in the operation, so that a write retried after
        // WANT_WRITE offers OpenSSL the very bytes it was first given (its rule).
        std::unique_ptr<char[]> gathered;
        const std::string_view chunk = next_record(buffers, [&](std::size_t size) {
            gathered = std::make_unique_for_overwrite<char[]>(size);
            return gathered.get();
        });
        return run<void(boost::system::error_code, std::size_t)>(
            [this, chunk, held = std::move(gathered)] {
                return write_step(chunk.data(), chunk.size());
            },
            std::forward<Token>(token));
    }

    /// Sends a close_notify and waits for the peer's (or its FIN, or an error).
    template <typename Token>
    auto async_shutdown(Token&& token) {
        return run<void(boost::system::error_code)>([this] { return shutdown_step(); },
                                                    std::forward<Token>(token));
    }

    /// Writes what it can of `head` then `body` right now, without waiting: records of up to
    /// kMaxRecord bytes, each head and body together when they fit, so a small answer is one
    /// record and one send. Answers the bytes taken. A record the socket did not take is left
    /// with OpenSSL, to be finished by an asynchronous write that starts at the answered offset
    /// (it gathers the same record again).
    std::size_t write_now(std::string_view head, std::string_view body,
                          boost::system::error_code& ec);

private:
    void begin_handshake(Role role);
    // One try each, never blocking.
    TlsStep handshake_step();
    TlsStep read_step(void* data, std::size_t size);
    TlsStep write_step(const char* data, std::size_t size);
    TlsStep shutdown_step();

    template <typename Buffers>
    static auto first_nonempty(const Buffers& buffers) {
        auto it = boost::asio::buffer_sequence_begin(buffers);
        const auto end = boost::asio::buffer_sequence_end(buffers);
        for (; it != end; ++it) {
            if (boost::asio::buffer_size(*it) > 0) return *it;
        }
        return std::decay_t<decltype(*it)>{};
    }

    /// The first kMaxRecord bytes of `buffers`: in place when the first buffer holds them all,
    /// else gathered into the storage that `allocate(size)` gives.
    template <typename ConstBuffers, typename Allocate>
    static std::string_view next_record(const ConstBuffers& buffers, Allocate&& allocate) {
        auto it = boost::asio::buffer_sequence_begin(buffers);
        const auto end = boost::asio::buffer_sequence_end(buffers);
        while (it != end && boost::asio::buffer_size(*it) == 0) ++it;
        if (it == end) return {};
        const boost::asio::const_buffer first = *it;
        std::size_t total = 0;
        for (auto rest = it; rest != end && total < kMaxRecord; ++rest) {
            total += boost::asio::buffer_size(*rest);
        }
        total = std::min(total, kMaxRecord);
        if (first.size() >= total) return {static_cast<const char*>(first.data()), total};
        char* storage = allocate(total);
        std::size_t at = 0;
        for (; it != end && at < total; ++it) {
            const boost::asio::const_buffer piece = *it;
            const std::size_t n = std::min(piece.size(), total - at);
            std::memcpy(storage + at, piece.data(), n);
            at += n;
        }
        return {storage, total};
    }

    /// Runs `step` until it needs nothing more, reading into the carry or waiting for room to
    /// write in between. A step that finishes at once completes through the executor, never
    /// inside the initiating call.
    template <typename Signature, typename Step>
    struct Operation {
        TlsStream& stream;
        Step step;
        enum { starting, waiting, finished } state = starting;
        TlsStep result{};

        template <typename Self>
        void operator()(Self& self) {
            if (state != finished) return try_step(self);
            complete(self);
        }
        // The socket became writable, or the wait failed.
        template <typename Self>
        void operator()(Self& self, boost::system::error_code ec) {
            if (ec) return finish(self, ec);
            try_step(self);
        }
        // The carry got bytes, or the read failed (an EOF is for OpenSSL to judge).
        template <typename Self>
        void operator()(Self& self, boost::system::error_code ec, std::size_t n) {
            if (ec && !stream.carry_ended(ec)) return finish(self, ec);
            stream.carry_filled(n);
            try_step(self);
        }

        template <typename Self>
        void try_step(Self& self) {
            const bool first = state == starting;
            result = step();
            if (result.want == TlsWant::read) {
                state = waiting;
                stream.socket().async_read_some(stream.carry_space(), std::move(self));
                return;
            }
            if (result.want == TlsWant::write) {
                state = waiting;
                stream.socket().async_wait(Socket::wait_write, std::move(self));
                return;
            }
            state = finished;
            if (first) return boost::asio::post(std::move(self));
            complete(self);
        }
        template <typename Self>
        void finish(Self& self, boost::system::error_code ec) {
            result = TlsStep{TlsWant::nothing, ec, 0};
            state = finished;
            complete(self);
        }
        template <typename Self>
        void complete(Self& self) {
            if constexpr (std::is_same_v<Signature, void(boost::system::error_code)>) {
                self.complete(result.ec);
            } else {
                self.complete(result.ec, result.bytes);
            }
        }
    };

    template <typename Signature, typename Step, typename Token>
    auto run(Step step, Token&& token) {
        return boost::asio::async_compose<Token, Signature>(
            Operation<Signature, Step>{*this, std::move(step)}, token, socket_);
    }

    // The ciphertext read from the socket that OpenSSL has not taken yet.
    boost::asio::mutable_buffer carry_space();
    void carry_filled(std::size_t n);
    /// True when `ec` is the peer's FIN, which OpenSSL is then told of.
    bool carry_ended(const boost::system::error_code& ec);
    friend int read_carry(::bio_st* bio, char* data, int size);

    struct Carry {
        std::unique_ptr<char[]> bytes;
        std::size_t capacity = 0;
        std::size_t begin = 0;
        std::size_t end = 0;
        std::size_t next_capacity = 0;
        bool peer_closed = false;
    };

    Socket& socket_;
    ssl_st* ssl_;
    Carry carry_;
};

}  // namespace gateway
