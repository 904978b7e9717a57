#include <catch2/catch.hpp>

#include <utility>  // before Asio's coroutine headers

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>

#include <chrono>
#include <string>

#include "io/socket_pair.hpp"
#include "io/write_message.hpp"

using namespace gateway;
using gateway::test::socket_pair;
namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

std::string pattern(std::size_t size) {
    std::string text(size, '\0');
    for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>('a' + i * 7 % 26);
    return text;
}

}  // namespace

TEST_CASE("write_head_and_body: a small message goes at once, whole") {
    asio::io_context io;
    auto [server, client] = socket_pair(io);
    TimedStream stream(Transport(std::move(server)), 50ms);
    boost::system::error_code ec;
    std::size_t written = 0;
    asio::co_spawn(io, [&]() -> Task<void> {
        written = co_await write_head_and_body(stream, "HEAD\r\n\r\n", "body", ec);
    }, asio::detached);
    io.run_for(2s);
    CHECK_FALSE(ec);
    CHECK(written == 12);
    std::string got(12, '\0');
    asio::read(client, asio::buffer(got));
    CHECK(got == "HEAD\r\n\r\nbody");
}

TEST_CASE("write_head_and_body: what the socket cannot take at once follows as it makes room, in order") {
    asio::io_context io;
    auto [server, client] = socket_pair(io);
    // A small send buffer and an 8 MiB body: the first sendmsg takes only part of it.
    server.set_option(asio::socket_base::send_buffer_size(4096));
    TimedStream stream(Transport(std::move(server)), 50ms);
    const std::string head = pattern(300);
    const std::string body = pattern(8 * 1024 * 1024 + 17);
    boost::system::error_code ec;
    std::size_t written = 0;
    bool done = false;
    asio::co_spawn(io, [&]() -> Task<void> {
        written = co_await write_head_and_body(stream, head, body, ec);
        done = true;
    }, asio::detached);
    std::string got(head.size() + body.size(), '\0');
    std::size_t received = 0;
    asio::async_read(client, asio::buffer(got), [&](boost::system::error_code, std::size_t n) {
        received = n;
    });
    io.run_for(20s);
    REQUIRE(done);
    CHECK_FALSE(ec);
    CHECK(written == got.size());
    REQUIRE(received == got.size());
    CHECK((got == head + body));
}

TEST_CASE("write_head_and_body: a peer that has gone is an error, not a signal") {
    asio::io_context io;
    auto [server, client] = socket_pair(io);
    client.set_option(asio::socket_base::linger(true, 0));
    client.close();  // reset
    TimedStream stream(Transport(std::move(server)), 50ms);
    boost::system::error_code ec;
    const std::string body = pattern(1024 * 1024);
    asio::co_spawn(io, [&]() -> Task<void> {
        // The first write may still be taken by the kernel; the reset shows by the second.
        co_await write_head_and_body(stream, "X", body, ec);
        if (!ec) co_await write_head_and_body(stream, "X", body, ec);
    }, asio::detached);
    io.run_for(5s);
    CHECK((ec == asio::error::connection_reset || ec == asio::error::broken_pipe));
}
