#include "connection.hpp"

#include <cstdint>
#include <string_view>

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include "control.hpp"
#include "delivery.hpp"
#include "test_hooks.hpp"

namespace mock_backend {

namespace {

using namespace std::chrono_literals;

/// How long an idle keep-alive connection may take to send its next request (and then its
/// body): generous, since test harnesses often hold connections between steps.
constexpr auto kReadTimeout = 60s;
constexpr std::uint64_t kBodyLimit = 8u * 1024u * 1024u;
/// Beast's default is 8 KiB; tests send long forwarded-header chains, so allow more.
constexpr std::uint32_t kHeaderLimit = 64u * 1024u;

bool expects_continue(const Request& req) {
    const auto it = req.find(http::field::expect);
    return it != req.end() && boost::beast::iequals(it->value(), "100-continue");
}

/// Reads one request into `parser`. Headers first, so a client waiting on
/// `Expect: 100-continue` (curl does for large bodies) gets its go-ahead instead of stalling.
net::awaitable<bool> read_request(Stream& stream, boost::beast::flat_buffer& buffer,
                                  http::request_parser<http::string_body>& parser) {
    error_code ec;
    stream.expires_after(kReadTimeout);
    co_await http::async_read_header(stream, buffer, parser, with_ec(ec));
    if (ec) co_return false;  // peer closed, deadline, or unparseable: all end the connection
    // Counted once its head has arrived, whether or not a body follows: tests use the count to
    // prove that the gateway did (or did not) send a request on.
    if (!is_control_target(to_std(parser.get().target()))) count_request();
    if (parser.is_done()) co_return true;  // no body: the common case, one read only

    if (expects_continue(parser.get())) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        stream.expires_after(kWriteTimeout);
        co_await net::async_write(stream, net::buffer(kContinue.data(), kContinue.size()),
                                  with_ec(ec));
        if (ec) co_return false;
    }
    stream.expires_after(kReadTimeout);
    co_await http::async_read(stream, buffer, parser, with_ec(ec));
    co_return !ec;
}

void close(Stream& stream) {
    // Send FIN before closing so a client that is still reading sees a clean end of stream.
    error_code ignored;
    stream.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    stream.socket().close(ignored);
}

}  // namespace

net::awaitable<void> serve_connection(net::ip::tcp::socket socket) {
    Stream stream{std::move(socket)};
    try {
        // One buffer per connection, reused for every request; it also carries bytes of a
        // pipelined next request over from one read to the next.
        boost::beast::flat_buffer buffer;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.header_limit(kHeaderLimit);
            parser.body_limit(kBodyLimit);
            if (!co_await read_request(stream, buffer, parser)) break;
            const Request& req = parser.get();
            Plan plan = is_control_target(to_std(req.target())) ? control_plan(req)
                                                                : plan_request(req);
            if (!co_await deliver(stream, plan)) break;
        }
    } catch (...) {
        // I/O reports errors as codes, so only allocation failures can get here; dropping
        // this one connection is the right answer to those.
    }
    close(stream);
}

}  // namespace mock_backend
