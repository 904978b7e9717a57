#include "io/tls_stream.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <new>

namespace gateway {

namespace asio = boost::asio;

int read_carry(BIO* bio, char* data, int size);

namespace {

constexpr std::size_t kCarryStart = 1024;
// The largest TLS record on the wire (16 KiB of payload and the most a cipher adds to it).
constexpr std::size_t kCarryMost = 16709;

TlsStream& stream_of(BIO* bio) { return *static_cast<TlsStream*>(BIO_get_data(bio)); }

// The socket is asked for itself, not its descriptor kept: once a deadline closed it, its
// number may belong to another connection, and the Socket then answers -1, which fails cleanly.
int write_socket(BIO* bio, const char* data, int size) {
    BIO_clear_retry_flags(bio);
    while (true) {
        const ssize_t n = ::send(stream_of(bio).socket().native_handle(), data,
                                 static_cast<std::size_t>(size), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0) return static_cast<int>(n);
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(bio);
        return -1;
    }
}

long control_socket(BIO*, int command, long, void*) {
    // Writes go straight to the kernel, so there is never anything to flush.
    return command == BIO_CTRL_FLUSH ? 1 : 0;
}

int create_socket_bio(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
}

// Made once and never changed: the BIO type's table of functions, like a vtable.
const BIO_METHOD* socket_bio_method() {
    static BIO_METHOD* const method = [] {
        BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "gateway socket");
        if (!made) throw std::bad_alloc();
        BIO_meth_set_read(made, read_carry);
        BIO_meth_set_write(made, write_socket);
        BIO_meth_set_ctrl(made, control_socket);
        BIO_meth_set_create(made, create_socket_bio);
        return made;
    }();
    return method;
}

/// What a failed SSL call needs or why it failed, told as Asio's stream tells it.
TlsStep after_failure(SSL* ssl, int result, int system_error) {
    TlsStep step;
    const int reason = SSL_get_error(ssl, result);
    const unsigned long queued = ERR_get_error();
    ERR_clear_error();
    switch (reason) {
        case SSL_ERROR_WANT_READ: step.want = TlsWant::read; break;
        case SSL_ERROR_WANT_WRITE: step.want = TlsWant::write; break;
        case SSL_ERROR_ZERO_RETURN: step.ec = asio::error::eof; break;
        case SSL_ERROR_SYSCALL:
            if (queued != 0) {
                step.ec.assign(static_cast<int>(queued), asio::error::get_ssl_category());
            } else if (system_error != 0) {
                step.ec.assign(system_error, asio::error::get_system_category());
            } else {
                step.ec = asio::ssl::error::stream_truncated;
            }
            break;
        default:
            if (ERR_GET_REASON(queued) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
                step.ec = asio::ssl::error::stream_truncated;
            } else {
                step.ec.assign(static_cast<int>(queued), asio::error::get_ssl_category());
            }
            break;
    }
    return step;
}

/// OpenSSL's rule: the thread's error queue is empty before an SSL call, or SSL_get_error may
/// read an old error as this call's. errno likewise, to tell a FIN from a reset. Looked at
/// before it is cleared: it is nearly always empty (after_failure empties it), and clearing
/// walks all its slots (callgrind: 2 % of an HTTPS GET's instructions).
void before_call() {
    if (ERR_peek_error() != 0) ERR_clear_error();
    errno = 0;
}

}  // namespace

// OpenSSL's reads: from the carry, never from the socket (see the header). Empty: "try again",
// and the operation reads the socket into it.
int read_carry(BIO* bio, char* data, int size) {
    BIO_clear_retry_flags(bio);
    TlsStream::Carry& carry = stream_of(bio).carry_;
    const std::size_t available = carry.end - carry.begin;
    if (available == 0) {
        if (carry.peer_closed) return 0;
        BIO_set_retry_read(bio);
        return -1;
    }
    const std::size_t n = std::min(available, static_cast<std::size_t>(size));
    std::memcpy(data, carry.bytes.get() + carry.begin, n);
    carry.begin += n;
    return static_cast<int>(n);
}

asio::mutable_buffer TlsStream::carry_space() {
    // Only asked for when OpenSSL took everything: the carry is empty.
    carry_.begin = carry_.end = 0;
    const std::size_t wanted = carry_.next_capacity ? carry_.next_capacity : kCarryStart;
    if (carry_.capacity != wanted) {
        carry_.bytes = std::make_unique_for_overwrite<char[]>(wanted);
        carry_.capacity = wanted;
    }
    return asio::buffer(carry_.bytes.get(), carry_.capacity);
}

void TlsStream::carry_filled(std::size_t n) {
    carry_.end += n;
    // A full carry means more was probably waiting: read more at once next time. A short read
    // brings it back to the size that holds a request.
    carry_.next_capacity = n == carry_.capacity ? std::min(carry_.capacity * 2, kCarryMost) : kCarryStart;
}

bool TlsStream::carry_ended(const boost::system::error_code& ec) {
    if (ec != asio::error::eof) return false;
    carry_.peer_closed = true;
    return true;
}

TlsStream::TlsStream(Socket& socket, SSL_CTX* context) : socket_(socket), ssl_(SSL_new(context)) {
    if (!ssl_) throw std::bad_alloc();
    BIO* bio = BIO_new(socket_bio_method());
    if (!bio) {
        SSL_free(ssl_);
        throw std::bad_alloc();
    }
    BIO_set_data(bio, this);
    SSL_set_bio(ssl_, bio, bio);  // the SSL owns the BIO now
    // A write may end after one record (the rest is the caller's to send again), and its retry
    // after WANT_WRITE may come from another buffer holding the same bytes.
    SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    // OpenSSL takes all the carry holds at once, not a five-byte header and then its record.
    SSL_set_read_ahead(ssl_, 1);
}

TlsStream::~TlsStream() {
    // Marked as shut down, whether a close_notify went or not, so that SSL_free keeps the
    // session resumable: OpenSSL otherwise flags it "not resumable" (TLS 1.0's rule, dropped
    // by TLS 1.1, RFC 4346 7.2.1), and a pooled upstream connection, which ends by an idle
    // timeout or the backend's close, would spoil the session the next connection offers.
    // A fatal alert still removes the session on its own.
    SSL_set_shutdown(ssl_, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(ssl_);
}

bool TlsStream::has_buffered_input() const {
    return carry_.end > carry_.begin || SSL_has_pending(ssl_) == 1;
}

void TlsStream::begin_handshake(Role role) {
    if (role == Role::server) {
        SSL_set_accept_state(ssl_);
    } else {
        SSL_set_connect_state(ssl_);
    }
}

TlsStep TlsStream::handshake_step() {
    before_call();
    const int result = SSL_do_handshake(ssl_);
    if (result == 1) return {};
    return after_failure(ssl_, result, errno);
}

TlsStep TlsStream::read_step(void* data, std::size_t size) {
    if (size == 0) return {};
    // Nothing in the carry and nothing OpenSSL kept: SSL_read could only answer WANT_READ.
    if (carry_.end == carry_.begin && !carry_.peer_closed && SSL_has_pending(ssl_) == 0 &&
        SSL_is_init_finished(ssl_)) {
        return {TlsWant::read, {}, 0};
    }
    before_call();
    std::size_t read = 0;
    if (SSL_read_ex(ssl_, data, size, &read) == 1) return {TlsWant::nothing, {}, read};
    return after_failure(ssl_, 0, errno);
}

TlsStep TlsStream::write_step(const char* data, std::size_t size) {
    if (size == 0) return {};
    before_call();
    std::size_t written = 0;
    if (SSL_write_ex(ssl_, data, size, &written) == 1) return {TlsWant::nothing, {}, written};
    return after_failure(ssl_, 0, errno);
}

TlsStep TlsStream::shutdown_step() {
    before_call();
    int result = SSL_shutdown(ssl_);
    if (result == 0) {
        // Ours is sent; the second call reads until the peer's comes.
        before_call();
        result = SSL_shutdown(ssl_);
        if (result == 0) return {TlsWant::read, {}, 0};
    }
    if (result == 1) return {};
    return after_failure(ssl_, result, errno);
}

std::size_t TlsStream::write_now(std::string_view head, std::string_view body,
                                 boost::system::error_code& ec) {
    const std::size_t total = head.size() + body.size();
    std::size_t taken = 0;
    char record[kMaxRecord];  // on the thread's stack, for this call only
    while (taken < total) {
        const std::string_view head_rest = taken < head.size() ? head.substr(taken) : std::string_view();
        const std::string_view body_rest = taken < head.size() ? body : body.substr(taken - head.size());
        const std::array<asio::const_buffer, 2> rest{asio::buffer(head_rest.data(), head_rest.size()),
                                                     asio::buffer(body_rest.data(), body_rest.size())};
        const std::string_view chunk = next_record(rest, [&](std::size_t) { return record; });
        const TlsStep step = write_step(chunk.data(), chunk.size());
        if (step.ec) ec = step.ec;
        if (step.ec || step.want != TlsWant::nothing) break;
        taken += step.bytes;
    }
    return taken;
}

}  // namespace gateway
