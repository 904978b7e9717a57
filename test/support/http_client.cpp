#include "support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <sstream>
#include <stdexcept>

namespace test_support {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using error_code = boost::system::error_code;

namespace {

constexpr std::uint64_t kMaxResponseBody = 64u * 1024u * 1024u;

HttpResponse to_response(http::response_parser<http::string_body>& parser) {
    auto& message = parser.get();
    HttpResponse response;
    response.status = static_cast<int>(message.result_int());
    response.version = message.version();
    response.reason = std::string(message.reason());
    for (const auto& field : message) {
        response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    response.keep_alive = message.keep_alive();
    response.body = std::move(message.body());
    return response;
}

/// Runs the io_context until the operations started on it finish. Their own deadlines (the
/// tcp_stream timer) bound the wait.
void run(asio::io_context& io) {
    io.restart();
    io.run();
}

asio::ip::tcp::endpoint local(std::uint16_t port) {
    return {asio::ip::make_address("127.0.0.1"), port};
}

template <typename Deadline>
auto until(Deadline deadline) {
    return deadline - Clock::now();
}

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (beast::iequals(key, name)) return value;
    }
    return std::nullopt;
}

std::size_t HttpResponse::header_count(std::string_view name) const {
    std::size_t count = 0;
    for (const auto& [key, value] : headers) {
        if (beast::iequals(key, name)) ++count;
    }
    return count;
}

std::string HttpResponse::describe() const {
    std::ostringstream out;
    out << "HTTP/" << version / 10 << "." << version % 10 << " " << status << " " << reason << "\n";
    for (const auto& [key, value] : headers) out << key << ": " << value << "\n";
    out << "\n" << (body.size() > 2000 ? body.substr(0, 2000) + "..." : body);
    return out.str();
}

HttpClient::HttpClient(std::uint16_t port, std::chrono::milliseconds timeout)
    : port_(port), timeout_(timeout), stream_(io_) {}

void HttpClient::close() {
    error_code ignored;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.close();
    buffer_.clear();
}

void HttpClient::connect() {
    buffer_.clear();
    error_code ec;
    stream_.expires_after(timeout_);
    stream_.async_connect(local(port_), [&](error_code e) { ec = e; });
    run(io_);
    if (ec) throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port_) + ": " + ec.message());
    ++connections_opened_;
}

HttpResponse HttpClient::send(std::string_view method, std::string_view target,
                              const Headers& headers, std::string body) {
    if (!stream_.socket().is_open()) connect();

    http::request<http::string_body> request;
    request.version(11);
    request.method_string(method);
    request.target(target);
    bool framed = false;
    bool has_host = false;
    for (const auto& [name, value] : headers) {
        request.insert(name, value);
        if (beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding")) {
            framed = true;
        }
        if (beast::iequals(name, "host")) has_host = true;
    }
    if (!has_host) request.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
    request.body() = std::move(body);
    if (!framed) request.prepare_payload();

    error_code ec;
    stream_.expires_after(timeout_);
    http::async_write(stream_, request, [&](error_code e, std::size_t) { ec = e; });
    run(io_);
    if (ec) {
        close();
        throw std::runtime_error("writing " + std::string(method) + " " + std::string(target) +
                                 ": " + ec.message());
    }

    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBody);
    if (method == "HEAD") parser.skip(true);
    stream_.expires_after(timeout_);
    http::async_read(stream_, buffer_, parser, [&](error_code e, std::size_t) { ec = e; });
    run(io_);
    if (ec) {
        close();
        throw std::runtime_error("reading the response to " + std::string(method) + " " +
                                 std::string(target) + ": " + ec.message());
    }
    HttpResponse response = to_response(parser);
    if (!response.keep_alive) close();
    return response;
}

RawConnection::RawConnection(std::uint16_t port) : stream_(io_) {
    error_code ec;
    stream_.expires_after(std::chrono::seconds(5));
    stream_.async_connect(local(port), [&](error_code e) { ec = e; });
    run(io_);
    if (ec) throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": " + ec.message());
}

bool RawConnection::write(std::string_view bytes, Clock::time_point deadline) {
    error_code ec;
    stream_.expires_after(until(deadline));
    asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()),
                      [&](error_code e, std::size_t) { ec = e; });
    run(io_);
    return !ec;
}

std::optional<std::string> RawConnection::read_until(std::string_view delimiter,
                                                     Clock::time_point deadline) {
    // By hand rather than asio::read_until: that one copies a Beast flat_buffer passed as an
    // lvalue, so the bytes after the delimiter would be lost to the next read.
    while (true) {
        const std::string buffered = beast::buffers_to_string(buffer_.data());
        const auto at = buffered.find(delimiter);
        if (at != std::string::npos) {
            buffer_.consume(at + delimiter.size());
            return buffered.substr(0, at + delimiter.size());
        }
        error_code ec;
        std::size_t n = 0;
        stream_.expires_after(until(deadline));
        stream_.async_read_some(buffer_.prepare(4096), [&](error_code e, std::size_t bytes) {
            ec = e;
            n = bytes;
        });
        run(io_);
        buffer_.commit(n);
        if (ec) return std::nullopt;
    }
}

std::optional<HttpResponse> RawConnection::read_response(Clock::time_point deadline) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBody);
    error_code ec;
    stream_.expires_after(until(deadline));
    http::async_read(stream_, buffer_, parser, [&](error_code e, std::size_t) { ec = e; });
    run(io_);
    if (ec) return std::nullopt;
    return to_response(parser);
}

RawConnection::Drained RawConnection::read_until_close(Clock::time_point deadline) {
    Drained drained;
    drained.bytes = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    while (true) {
        char chunk[8192];
        error_code ec;
        std::size_t n = 0;
        stream_.expires_after(until(deadline));
        stream_.async_read_some(asio::buffer(chunk), [&](error_code e, std::size_t bytes) {
            ec = e;
            n = bytes;
        });
        run(io_);
        drained.bytes.append(chunk, n);
        if (ec == beast::error::timeout) {
            drained.timed_out = true;
            return drained;
        }
        if (ec) {
            drained.closed = true;  // eof or reset: either way the server is gone
            return drained;
        }
    }
}

RawConnection::Drained send_raw(std::uint16_t port, std::string_view bytes,
                                std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    RawConnection connection(port);
    connection.write(bytes, deadline);
    return connection.read_until_close(deadline);
}

std::optional<HttpResponse> parse_response(std::string_view bytes) {
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.body_limit(kMaxResponseBody);
    error_code ec;
    std::size_t offset = 0;
    while (offset < bytes.size() && !parser.is_done()) {
        const std::size_t used =
            parser.put(asio::buffer(bytes.data() + offset, bytes.size() - offset), ec);
        if (ec == http::error::need_more) break;
        if (ec) return std::nullopt;
        offset += used;
        if (used == 0) break;
    }
    if (!parser.is_done()) {
        parser.put_eof(ec);  // a body delimited by the end of the connection
        if (ec || !parser.is_done()) return std::nullopt;
    }
    return to_response(parser);
}

}  // namespace test_support
