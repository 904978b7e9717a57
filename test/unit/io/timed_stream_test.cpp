#include <catch2/catch.hpp>

#include <utility>  // before Asio's coroutine headers

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>

#include <array>
#include <chrono>
#include <functional>

#include "io/socket_pair.hpp"
#include "io/timed_stream.hpp"

using namespace gateway;
using gateway::test::socket_pair;
namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST_CASE("timed stream: a read that gets nothing ends with timeout at its deadline") {
    asio::io_context io;
    auto [server, client] = socket_pair(io);
    TimedStream stream(Transport(std::move(server)), 50ms);
    std::array<char, 16> bytes{};
    boost::system::error_code result;
    const auto started = Clock::now();
    stream.expires_after(120ms);
    stream.async_read_some(asio::buffer(bytes), [&](boost::system::error_code ec, std::size_t) {
        result = stream.result(ec);
    });
    io.run_for(2s);
    const auto waited = Clock::now() - started;
    CHECK(result == boost::beast::error::timeout);
    CHECK(stream.timed_out());
    CHECK(waited >= 120ms);
    CHECK(waited < 600ms);
}

TEST_CASE("timed stream: moving the deadline later keeps the connection alive past the first one") {
    asio::io_context io;
    auto [server, client] = socket_pair(io);
    TimedStream stream(Transport(std::move(server)), 50ms);
    std::array<char, 4> bytes{};
    boost::system::error_code result = asio::error::would_block;
    std::size_t received = 0;
    stream.expires_after(100ms);
    asio::async_read(stream, asio::buffer(bytes), [&](boost::system::error_code ec, std::size_t n) {
        result = stream.result(ec);
        received = n;
        stream.expires_never();  // done: no deadline any more
    });
    // Every 60 ms the deadline moves 100 ms on; the bytes come after 300 ms, three times the
    // first deadline.
    asio::steady_timer pusher(io);
    int pushes = 0;
    std::function<void()> push = [&] {
        pusher.expires_after(60ms);
        pusher.async_wait([&](boost::system::error_code) {
            stream.expires_after(100ms);
            if (++pushes < 5) {
                push();
            } else {
                asio::write(client, asio::buffer("ping", 4));
            }
        });
    };
    push();
    io.run_for(2s);
    CHECK_FALSE(result);
    CHECK(received == 4);
    CHECK_FALSE(stream.timed_out());
}

TEST_CASE("timed stream: a deadline closer than the granularity still holds") {
    asio::io_context io;
    auto [server, client] = socket_pair(io);
    TimedStream stream(Transport(std::move(server)), 10s);
    std::array<char, 16> bytes{};
    boost::system::error_code result;
    stream.expires_after(10s);
    stream.expires_after(80ms);  // closer than the armed watchdog: it must re-arm
    stream.async_read_some(asio::buffer(bytes), [&](boost::system::error_code ec, std::size_t) {
        result = stream.result(ec);
    });
    const auto started = Clock::now();
    io.run_for(3s);
    CHECK(result == boost::beast::error::timeout);
    CHECK(Clock::now() - started < 1s);
}

TEST_CASE("timed stream: without a deadline nothing times out, and destroying it with a watch pending is safe") {
    asio::io_context io;
    auto [server, client] = socket_pair(io);
    {
        TimedStream stream(Transport(std::move(server)), 20ms);
        stream.expires_after(50ms);
        stream.expires_never();
        io.run_for(150ms);
        CHECK_FALSE(stream.timed_out());
        CHECK(stream.transport().tcp().is_open());
        stream.expires_after(1s);
    }
    io.restart();
    io.run_for(100ms);  // the cancelled watch runs after the stream is gone
    // No use after free here: the sanitizer build (tools/test --sanitize) checks it.
}
