#pragma once

#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/process.hpp"

namespace test_support {

using Headers = std::vector<std::pair<std::string, std::string>>;

/// One HTTP response as the client saw it.
struct HttpResponse {
    int status = 0;
    unsigned version = 11;
    std::string reason;
    Headers headers;  // in received order, names as sent
    std::string body;
    bool keep_alive = true;

    /// First value of the header `name` (case-insensitive), if any.
    std::optional<std::string> header(std::string_view name) const;
    std::size_t header_count(std::string_view name) const;
    /// "HTTP 400 {...}" plus headers, for INFO() when an assertion fails.
    std::string describe() const;
};

/// A blocking HTTP/1.1 client on one keep-alive connection, reconnecting only when the
/// server closed the previous one. Every call has a deadline: the Beast/Asio operations run on
/// a private io_context until they finish or the stream's timer fires, so a hung gateway
/// fails the test instead of hanging it.
class HttpClient {
public:
    explicit HttpClient(std::uint16_t port,
                        std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

    /// Sends one request and reads its response. Adds Host when missing and frames the body
    /// with Content-Length unless `headers` already carry Content-Length or Transfer-Encoding.
    /// Throws std::runtime_error on a transport error or timeout.
    HttpResponse send(std::string_view method, std::string_view target, const Headers& headers = {},
                      std::string body = {});

    void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
    /// TCP connections this client has opened so far (1 when keep-alive held throughout).
    int connections_opened() const noexcept { return connections_opened_; }
    bool is_open() const { return stream_.socket().is_open(); }
    void close();

private:
    void connect();

    std::uint16_t port_;
    std::chrono::milliseconds timeout_;
    boost::asio::io_context io_;
    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    int connections_opened_ = 0;
};

/// A client socket for byte-level tests: malformed requests, HTTP/1.0, Expect: 100-continue.
class RawConnection {
public:
    explicit RawConnection(std::uint16_t port);

    /// Writes all of `bytes`; false on a transport error (e.g. the server already closed).
    bool write(std::string_view bytes, Clock::time_point deadline);

    /// Reads until `delimiter` has arrived; the bytes up to and including it, or nothing on
    /// close/deadline. Bytes after the delimiter stay buffered for the next read.
    std::optional<std::string> read_until(std::string_view delimiter, Clock::time_point deadline);

    /// Parses one HTTP response off the connection (after anything buffered).
    std::optional<HttpResponse> read_response(Clock::time_point deadline);

    struct Drained {
        std::string bytes;
        bool closed = false;     // the server closed the connection (EOF or reset)
        bool timed_out = false;  // the deadline passed with the connection still open
    };
    /// Reads everything until the server closes the connection or the deadline passes.
    Drained read_until_close(Clock::time_point deadline);

private:
    boost::asio::io_context io_;
    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
};

/// Opens a connection, writes `bytes`, and reads until the server closes it or the deadline.
RawConnection::Drained send_raw(std::uint16_t port, std::string_view bytes,
                                std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

/// Parses the first HTTP response in `bytes` (a complete message), nothing if it is not one.
std::optional<HttpResponse> parse_response(std::string_view bytes);

}  // namespace test_support
