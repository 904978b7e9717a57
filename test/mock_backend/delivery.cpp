#include "delivery.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <sstream>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/write.hpp>

namespace mock_backend {

namespace {

using namespace std::chrono_literals;

/// `hang` holds the connection for at most this long: "forever" for any test, yet a client
/// that never closes cannot pin a socket for the lifetime of a long benchmark run.
constexpr auto kHangLimit = 10min;

/// `slow` sends one piece per tick and never more than kSlowTicks pieces, so a response takes
/// about 3 s whatever its size (1 byte per tick only for responses of <= 60 bytes).
constexpr auto kSlowTick = 50ms;
constexpr std::size_t kSlowTicks = 60;

constexpr std::size_t kHalfBodyDeclared = 100;
constexpr std::size_t kHalfBodySent = 50;

net::awaitable<bool> write_bytes(Stream& stream, std::string_view bytes) {
    error_code ec;
    stream.expires_after(kWriteTimeout);
    co_await net::async_write(stream, net::buffer(bytes.data(), bytes.size()), with_ec(ec));
    co_return !ec;
}

net::awaitable<bool> sleep_for(Stream& stream, std::chrono::milliseconds duration) {
    net::steady_timer timer{stream.get_executor(), duration};
    error_code ec;
    co_await timer.async_wait(with_ec(ec));
    co_return !ec;  // operation_aborted only when the server is shutting down
}

/// The response as HTTP/1.1 wire bytes, for the deliveries that do their own framing.
std::string serialize(const Response& res) {
    std::ostringstream out;
    out << res;
    return std::move(out).str();
}

std::string serialize_header(const Response& res) {
    std::ostringstream out;
    out << res.base();
    return std::move(out).str();
}

net::awaitable<void> wait_for_peer_close(Stream& stream) {
    // Reading (and discarding) is what notices the peer's FIN; a bare timer would not.
    std::array<char, 1024> sink{};
    stream.expires_after(kHangLimit);
    for (;;) {
        error_code ec;
        co_await stream.async_read_some(net::buffer(sink), with_ec(ec));
        if (ec) co_return;
    }
}

net::awaitable<bool> write_half_body(Stream& stream, Response res) {
    std::string body = std::move(res.body());
    body.resize(kHalfBodySent, ' ');  // pad short (e.g. empty) bodies: exactly 50 bytes go out
    res.body().clear();
    res.content_length(kHalfBodyDeclared);
    res.keep_alive(false);
    co_await write_bytes(stream, serialize_header(res) + body);
    co_return false;
}

net::awaitable<bool> write_cut(Stream& stream, Response res) {
    std::string body = std::move(res.body());
    res.body().clear();
    res.content_length(body.size());
    res.keep_alive(false);
    body.resize(body.size() / 2);
    co_await write_bytes(stream, serialize_header(res) + body);
    co_return false;
}

std::string chunk(std::string_view data) {
    char size_line[32];
    const int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
    std::string out{size_line, static_cast<std::size_t>(n)};
    out.append(data);
    out += "\r\n";
    return out;
}

net::awaitable<bool> write_chunked(Stream& stream, Response res) {
    const std::string body = std::move(res.body());
    res.body().clear();
    res.chunked(true);  // also drops Content-Length
    if (!co_await write_bytes(stream, serialize_header(res))) co_return false;
    // Separate writes (TCP_NODELAY is on) so the chunks tend to arrive in separate segments
    // and the gateway's chunk decoder really has to join them. An empty half is skipped: a
    // zero-size chunk would be the terminator.
    const std::string_view view = body;
    const std::size_t half = view.size() / 2;
    for (const auto part : {view.substr(0, half), view.substr(half)}) {
        if (!part.empty() && !co_await write_bytes(stream, chunk(part))) co_return false;
    }
    if (!co_await write_bytes(stream, "0\r\n\r\n")) co_return false;
    co_return res.keep_alive();
}

net::awaitable<bool> write_slowly(Stream& stream, const Response& res) {
    const std::string wire = serialize(res);
    const std::size_t piece = std::max<std::size_t>(1, (wire.size() + kSlowTicks - 1) / kSlowTicks);
    const std::string_view all = wire;
    for (std::size_t sent = 0; sent < wire.size(); sent += piece) {
        if (sent != 0 && !co_await sleep_for(stream, kSlowTick)) co_return false;
        if (!co_await write_bytes(stream, all.substr(sent, piece))) co_return false;
    }
    co_return res.keep_alive();
}

/// The answer, then kStrayResponse: in the same write, or `after` later. The connection stays
/// open for the next request, as a keep-alive backend's would.
net::awaitable<bool> write_with_stray(Stream& stream, const Response& res,
                                      std::chrono::milliseconds after) {
    // Named strings: they must outlive the writes' suspensions.
    std::string answer = serialize(res);
    const std::string stray = kStrayResponse;
    if (after.count() == 0) {
        answer += stray;
        co_return co_await write_bytes(stream, answer);
    }
    if (!co_await write_bytes(stream, answer)) co_return false;
    if (!co_await sleep_for(stream, after)) co_return false;
    co_return co_await write_bytes(stream, stray);
}

constexpr std::chrono::milliseconds kStrayDelay{50};

}  // namespace

net::awaitable<bool> deliver(Stream& stream, Plan& plan) {
    if (plan.delay.count() > 0 && !co_await sleep_for(stream, plan.delay)) co_return false;

    switch (plan.delivery) {
        case Delivery::normal: {
            error_code ec;
            stream.expires_after(kWriteTimeout);
            co_await boost::beast::http::async_write(stream, plan.response, with_ec(ec));
            co_return !ec && plan.response.keep_alive();
        }
        case Delivery::hang: co_await wait_for_peer_close(stream); co_return false;
        case Delivery::close: co_return false;
        case Delivery::half_body:
            co_return co_await write_half_body(stream, std::move(plan.response));
        case Delivery::garbage:
            co_await write_bytes(stream, "this is not HTTP\r\n\r\n");
            co_return false;
        case Delivery::chunked: co_return co_await write_chunked(stream, std::move(plan.response));
        case Delivery::cut: co_return co_await write_cut(stream, std::move(plan.response));
        case Delivery::slow: co_return co_await write_slowly(stream, plan.response);
        case Delivery::extra_late:
            co_return co_await write_with_stray(stream, plan.response, kStrayDelay);
        case Delivery::extra_now:
            co_return co_await write_with_stray(stream, plan.response, std::chrono::milliseconds{0});
    }
    co_return false;
}

}  // namespace mock_backend
