#include <catch2/catch.hpp>

#include <utility>  // before Asio's coroutine headers

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <chrono>
#include <string>

#include "config/config_loader.hpp"
#include "io/socket_pair.hpp"
#include "server/client_connection.hpp"
#include "upstream/scripted_upstream.hpp"

using namespace gateway;
using gateway::test::ScriptedUpstream;
using gateway::test::socket_pair;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

/// One worker's session machinery, in this thread, in front of a scripted upstream that stands
/// for both backends of the project's routes.yaml.
struct ClientConnectionUnderTest {
    explicit ClientConnectionUnderTest(void (*edit)(Config&) = nullptr) {
        ConfigOverrides overrides;
        const Endpoint local{"127.0.0.1", upstream.port()};
        overrides.upstream_endpoints["selfCareSocket"] = {local};
        overrides.upstream_endpoints["penalties"] = {local};
        const auto loaded = load_serving_config(TEST_SOURCE_DIR "/routes.yaml", overrides);
        REQUIRE(loaded.config);
        // The only reference to this snapshot: edited before any session sees it.
        auto config = std::const_pointer_cast<Config>(loaded.config);
        if (edit) edit(*config);
        context.emplace(ClientContext{config, pipeline, request_ids, open_connections, metrics});
    }

    /// Opens a client connection served by a session; answers the client's end.
    Socket connect() {
        auto [accepted, client] = socket_pair(io);
        serve_client(Transport(std::move(accepted)), *context);
        return std::move(client);
    }

    /// Sends `bytes` on a new connection and answers all that comes back until the gateway
    /// closes it (or `limit` passes).
    std::string exchange(const std::string& bytes, Clock::duration limit = 5s) {
        Socket client = connect();
        asio::write(client, asio::buffer(bytes));
        return read_until_closed(client, limit);
    }

    std::string read_until_closed(Socket& client, Clock::duration limit = 5s) {
        std::string received;
        bool closed = false;
        asio::async_read(client, asio::dynamic_buffer(received),
                         [&](const boost::system::error_code&, std::size_t) { closed = true; });
        io.restart();
        const auto deadline = Clock::now() + limit;
        while (!closed && Clock::now() < deadline) io.run_one_for(50ms);
        if (!closed) received += "<still open>";
        return received;
    }

    asio::io_context io;
    ScriptedUpstream upstream{io};
    WorkerMetrics metrics;
    Forwarder forwarder{io.get_executor(), metrics};
    RedisHealth redis_health;
    GlobalRateLimiter global_limits{io.get_executor(), redis_health};
    RequestPipeline pipeline{forwarder, global_limits};
    RequestIdSource request_ids;
    std::atomic<std::size_t> open_connections{0};
    std::optional<ClientContext> context;
};

const std::string kBlocks = "GET /v2/orgs/telco/subscriptions/214748364/blocks HTTP/1.1\r\n"
                            "Host: gateway\r\nx-auth-roles: API_KEY\r\n";
const std::string kUpstreamAnswer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                    "Content-Length: 2\r\n\r\n[]";

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t count = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
    return count;
}

}  // namespace

TEST_CASE("client connection: requests on one connection are proxied in order and answered with their own ids") {
    ClientConnectionUnderTest test;
    test.upstream.then(kUpstreamAnswer);
    test.upstream.then(kUpstreamAnswer);
    // Two pipelined requests in one write; the second ends the connection.
    const std::string answers = test.exchange(kBlocks + "X-Request-Id: first-1\r\n\r\n" + kBlocks +
                                              "X-Request-Id: second-2\r\nConnection: close\r\n\r\n");
    CHECK(count_of(answers, "HTTP/1.1 200 OK\r\n") == 2);
    CHECK(answers.find("X-Request-Id: first-1") < answers.find("X-Request-Id: second-2"));
    CHECK_THAT(answers, Catch::EndsWith("Connection: close\r\n\r\n[]"));
    REQUIRE(test.upstream.request_heads.size() == 2);
    CHECK_THAT(test.upstream.request_heads[0], Catch::StartsWith("GET /"));
    CHECK_THAT(test.upstream.request_heads[1], Catch::Contains("X-Request-Id: second-2\r\n"));
    CHECK(test.open_connections == 0);
}

TEST_CASE("client connection: a head the framing checks refuse gets its ErrorMessage, is counted, and ends the connection") {
    ClientConnectionUnderTest test;
    const std::string answer = test.exchange(
        "POST /v2/orgs/telco/penalties/1 HTTP/1.1\r\nHost: gateway\r\nContent-Length: 3\r\n"
        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    CHECK_THAT(answer, Catch::StartsWith("HTTP/1.1 400 Bad Request\r\n"));
    CHECK_THAT(answer, Catch::Contains("\"status\":\"BAD_REQUEST\""));
    CHECK_THAT(answer, Catch::Contains("Connection: close\r\n"));
    CHECK(test.upstream.request_heads.empty());  // nothing was forwarded
    CHECK(test.metrics.rejections()[3] == 1);    // framing
}

TEST_CASE("client connection: an upstream that cannot be reached is a 502 ErrorMessage, and the connection goes on") {
    ClientConnectionUnderTest test([](Config& config) {
        for (auto& upstream : config.upstreams) upstream.request_timeout = 200ms;
    });
    test.upstream.then_silence();
    test.upstream.then(kUpstreamAnswer);
    Socket client = test.connect();
    asio::write(client, asio::buffer(kBlocks + "\r\n" + kBlocks + "Connection: close\r\n\r\n"));
    const std::string answers = test.read_until_closed(client);
    CHECK_THAT(answers, Catch::StartsWith("HTTP/1.1 504 Gateway Timeout\r\n"));
    CHECK_THAT(answers, Catch::Contains("no complete response from upstream selfCareSocket within 200 ms"));
    CHECK_THAT(answers, !Catch::Contains("127.0.0.1"));
    CHECK_THAT(answers, Catch::EndsWith("\r\n\r\n[]"));
}

TEST_CASE("client connection: a connection that sends nothing is closed at idle_timeout") {
    ClientConnectionUnderTest test([](Config& config) { config.limits.idle_timeout = 200ms; });
    Socket client = test.connect();
    const auto started = Clock::now();
    CHECK(test.read_until_closed(client, 3s).empty());
    const auto waited = Clock::now() - started;
    CHECK(waited >= 190ms);
    CHECK(waited < 2s);
}

TEST_CASE("client connection: a connection over max_connections gets a 503 ErrorMessage and is closed") {
    ClientConnectionUnderTest test([](Config& config) { config.limits.max_connections = 1; });
    Socket first = test.connect();
    Socket second = test.connect();
    const std::string refused = test.read_until_closed(second, 3s);
    CHECK_THAT(refused, Catch::StartsWith("HTTP/1.1 503 Service Unavailable\r\n"));
    CHECK_THAT(refused, Catch::Contains("limit of 1 connections"));
    CHECK(test.open_connections == 1);  // the first one is still served
}
