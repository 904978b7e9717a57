#include <catch2/catch.hpp>

#include <utility>  // before Asio's coroutine headers

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "io/run_task.hpp"
#include "io/socket_pair.hpp"
#include "upstream/connection_pool.hpp"

using namespace gateway;
using gateway::test::run_task;
using gateway::test::socket_pair;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

/// Hands the pool one end of a loopback pair per connection and keeps the other end (the
/// "upstream"), so a test can close it, write to it or see what the pool did to it.
class PairConnector final : public Connector {
public:
    explicit PairConnector(asio::io_context& io) : io_(io) {}

    Task<Result<std::unique_ptr<UpstreamConnection>>> connect(
        const Executor&, Clock::duration granularity, Clock::time_point) override {
        ++attempts;
        if (refuse_next) {
            refuse_next = false;
            co_return Error{Errc::upstream_unreachable, "connecting to upstream test failed: refused"};
        }
        auto pair = socket_pair(io_);
        upstream_ends.push_back(std::move(pair.first));
        co_return std::make_unique<UpstreamConnection>(Transport(std::move(pair.second)), granularity);
    }

    int attempts = 0;
    bool refuse_next = false;
    std::vector<Socket> upstream_ends;

private:
    asio::io_context& io_;
};

struct PoolUnderTest {
    explicit PoolUnderTest(std::size_t max_connections) {
        auto owned = std::make_unique<PairConnector>(io);
        connector = owned.get();
        pool = std::make_unique<ConnectionPool>(io.get_executor(), "upstream test", std::move(owned),
                                                1000ms, max_connections);
    }
    ConnectionPool::Lease acquire(bool fresh = false, Clock::duration within = 2s) {
        auto result = run_task(io, pool->acquire(fresh, Clock::now() + within));
        REQUIRE(result);
        return std::move(*result);
    }
    Result<ConnectionPool::Lease> try_acquire(Clock::duration within, bool fresh = false) {
        return run_task(io, pool->acquire(fresh, Clock::now() + within));
    }

    asio::io_context io;
    PairConnector* connector = nullptr;
    std::unique_ptr<ConnectionPool> pool;
};

/// True when the far end of a connection sees it closed (EOF or reset) within a second, false
/// when it stays open.
bool upstream_end_sees_close(Socket& upstream_end) {
    upstream_end.non_blocking(true);
    const auto deadline = Clock::now() + 1s;
    while (Clock::now() < deadline) {
        char byte;
        boost::system::error_code ec;
        upstream_end.read_some(asio::buffer(&byte, 1), ec);
        if (ec == asio::error::eof || ec == asio::error::connection_reset) return true;
        if (ec != asio::error::would_block) return false;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

}  // namespace

TEST_CASE("connection pool: released connections are reused, the most recent first") {
    PoolUnderTest test(4);
    auto first = test.acquire();
    auto second = test.acquire();
    CHECK_FALSE(first.reused);
    CHECK(test.connector->attempts == 2);
    UpstreamConnection* const first_connection = first.connection.get();
    UpstreamConnection* const second_connection = second.connection.get();
    test.pool->release(std::move(first.connection), true);
    test.pool->release(std::move(second.connection), true);
    CHECK(test.pool->open_connections() == 2);

    auto again = test.pool->take_idle();
    REQUIRE(again);
    CHECK(again->reused);
    CHECK(again->connection.get() == second_connection);
    auto then = test.acquire();
    CHECK(then.reused);
    CHECK(then.connection.get() == first_connection);
    CHECK_FALSE(test.pool->take_idle());
    CHECK(test.connector->attempts == 2);  // no new connection was needed
}

TEST_CASE("connection pool: an idle connection the upstream closed, or sent unasked bytes on, is never handed out") {
    PoolUnderTest test(4);
    auto first = test.acquire();
    auto second = test.acquire();
    UpstreamConnection* const first_connection = first.connection.get();
    test.pool->release(std::move(first.connection), true);
    test.pool->release(std::move(second.connection), true);
    test.connector->upstream_ends[1].close();  // the upstream closed the most recent idle one

    auto lease = test.pool->take_idle();
    REQUIRE(lease);
    CHECK(lease->connection.get() == first_connection);
    CHECK(test.pool->open_connections() == 1);

    test.pool->release(std::move(lease->connection), true);
    // A late answer arrives on the idle connection: it would be read as the next request's.
    asio::write(test.connector->upstream_ends[0], asio::buffer("HTTP/1.1 200 OK\r\n\r\n", 19));
    CHECK_FALSE(test.pool->take_idle());
    CHECK(test.pool->open_connections() == 0);
    CHECK(upstream_end_sees_close(test.connector->upstream_ends[0]));
}

TEST_CASE("connection pool: a connection released as not reusable, or with bytes left in its buffer, is closed") {
    PoolUnderTest test(4);
    auto broken = test.acquire();
    test.pool->release(std::move(broken.connection), false);
    CHECK(test.pool->open_connections() == 0);
    CHECK(upstream_end_sees_close(test.connector->upstream_ends[0]));

    auto leftover = test.acquire();
    auto bytes = leftover.connection->buffer.prepare(4);
    std::memcpy(bytes.data(), "HTTP", 4);
    leftover.connection->buffer.commit(4);
    test.pool->release(std::move(leftover.connection), true);
    CHECK(test.pool->open_connections() == 0);
    CHECK_FALSE(test.pool->take_idle());
}

TEST_CASE("connection pool: at its cap a request waits for a released connection") {
    PoolUnderTest test(1);
    auto held = test.acquire();
    UpstreamConnection* const only = held.connection.get();
    // Released 100 ms from now, while the second request waits.
    Timer later(test.io, 100ms);
    later.async_wait([&](const boost::system::error_code&) {
        test.pool->release(std::move(held.connection), true);
    });
    const auto started = Clock::now();
    auto waited = test.acquire(false, 2s);
    CHECK(Clock::now() - started >= 90ms);
    CHECK(waited.connection.get() == only);
    CHECK(waited.reused);
    CHECK(test.connector->attempts == 1);
    CHECK(test.pool->open_connections() == 1);
}

TEST_CASE("connection pool: at its cap a request that finds no free connection before its deadline gets upstream_timeout") {
    PoolUnderTest test(2);
    auto one = test.acquire();
    auto two = test.acquire();
    const auto started = Clock::now();
    const auto result = test.try_acquire(150ms);
    REQUIRE_FALSE(result);
    CHECK(Clock::now() - started >= 140ms);
    CHECK(result.error().errc == Errc::upstream_timeout);
    CHECK(result.error().detail ==
          "no free connection to upstream test before the deadline (2 connections busy)");
    CHECK(test.connector->attempts == 2);
}

TEST_CASE("connection pool: a failed connect gives its place back and its error passes unchanged") {
    PoolUnderTest test(1);
    test.connector->refuse_next = true;
    const auto refused = test.try_acquire(1s);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().errc == Errc::upstream_unreachable);
    CHECK(refused.error().detail == "connecting to upstream test failed: refused");
    CHECK(test.pool->open_connections() == 0);
    // The place is free again: the next request connects at once, with no wait.
    auto lease = test.acquire(false, 100ms);
    CHECK_FALSE(lease.reused);
    CHECK(test.pool->open_connections() == 1);
}

TEST_CASE("connection pool: asked for a fresh connection at its cap, it trades the oldest idle one for it") {
    PoolUnderTest test(1);
    auto stale = test.acquire();
    test.pool->release(std::move(stale.connection), true);
    auto fresh = test.acquire(/*fresh=*/true);
    CHECK_FALSE(fresh.reused);
    CHECK(test.connector->attempts == 2);
    CHECK(test.pool->open_connections() == 1);
    CHECK(upstream_end_sees_close(test.connector->upstream_ends[0]));
}
