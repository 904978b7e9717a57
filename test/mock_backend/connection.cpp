#include "connection.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include "capacity.hpp"
#include "control.hpp"
#include "delivery.hpp"
#include "health.hpp"
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

/// Which part of the mock answers a request, decided from its head alone.
enum class Kind {
    control,  // /__mock/*: control_plan()
    health,   // /health: HealthEndpoint
    backend,  // everything else: the fake backends, with the test hooks and the capacity
};

Kind kind_of(std::string_view target) {
    if (is_control_target(target)) return Kind::control;
    if (is_health_target(target)) return Kind::health;
    return Kind::backend;
}

/// Reads one request's head into `parser`.
net::awaitable<bool> read_head(Stream& stream, boost::beast::flat_buffer& buffer,
                               http::request_parser<http::string_body>& parser) {
    error_code ec;
    stream.expires_after(kReadTimeout);
    co_await http::async_read_header(stream, buffer, parser, with_ec(ec));
    co_return !ec;  // peer closed, deadline, or unparseable: all end the connection
}

/// Reads the rest of the request, if any. A client waiting on `Expect: 100-continue` (curl
/// does for large bodies) gets its go-ahead first instead of stalling.
net::awaitable<bool> read_body(Stream& stream, boost::beast::flat_buffer& buffer,
                               http::request_parser<http::string_body>& parser) {
    if (parser.is_done()) co_return true;  // no body: the common case, one read only
    error_code ec;
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

net::awaitable<void> serve_connection(net::ip::tcp::socket socket, MockState& state) {
    Stream stream{std::move(socket)};
    try {
        // One buffer per connection, reused for every request; it also carries bytes of a
        // pipelined next request over from one read to the next.
        boost::beast::flat_buffer buffer;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.header_limit(kHeaderLimit);
            parser.body_limit(kBodyLimit);
            if (!co_await read_head(stream, buffer, parser)) break;
            const Kind kind = kind_of(to_std(parser.get().target()));
            // Counted once the head has arrived, whether or not a body follows: tests use the
            // counts to prove that the gateway did (or did not) send a request on.
            if (kind == Kind::health) state.health.count_probe();
            // Held until the response is written (the end of this iteration), so it counts
            // the request as in progress for exactly that long.
            std::optional<Capacity::Ticket> ticket;
            if (kind == Kind::backend) {
                state.requests.fetch_add(1, std::memory_order_relaxed);
                ticket.emplace(state.capacity, stream.get_executor());
                co_await ticket->admitted();
            }
            if (!co_await read_body(stream, buffer, parser)) break;
            if (ticket && !co_await ticket->serve()) break;
            const Request& req = parser.get();
            Plan plan;
            switch (kind) {
                case Kind::control: plan = control_plan(req, state); break;
                case Kind::health: plan = state.health.answer(req); break;
                case Kind::backend: plan = plan_request(req, state.fault.fault()); break;
            }
            if (!co_await deliver(stream, plan)) break;
        }
    } catch (...) {
        // I/O reports errors as codes, so only allocation failures can get here; dropping
        // this one connection is the right answer to those.
    }
    close(stream);
}

}  // namespace mock_backend
