#include <catch2/catch.hpp>

#include <utility>  // before Asio's coroutine headers

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>

#include <chrono>
#include <string>

#include "io/run_task.hpp"
#include "io/socket_pair.hpp"
#include "upstream/forwarder.hpp"
#include "upstream/scripted_upstream.hpp"

using namespace gateway;
using gateway::test::run_task;
using gateway::test::ScriptedUpstream;
using gateway::test::socket_pair;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace std::chrono_literals;

namespace {

Endpoint endpoint_at(std::uint16_t port) {
    const std::string address = "127.0.0.1";
    return {address, port, address, address + ":" + std::to_string(port)};
}

UpstreamConfig upstream_at(std::initializer_list<std::uint16_t> ports) {
    UpstreamConfig upstream;
    upstream.name = "test";
    for (const auto port : ports) upstream.endpoints.push_back(endpoint_at(port));
    upstream.connect_timeout = 1000ms;
    upstream.request_timeout = 2000ms;
    return upstream;
}

const std::string kGetHead = "GET /internal HTTP/1.1\r\nHost: test\r\n\r\n";
const std::string kPatchHead = "PATCH /internal HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n";

struct ForwarderUnderTest {
    /// The answer (or why none came) to one request with `head`.
    Status forward(const UpstreamConfig& upstream, const std::string& head,
                   http::verb method = http::verb::get) {
        reply = UpstreamReply{};
        const UpstreamRequest request{method, head, {}};
        return run_task(io, forwarder.forward(upstream, request, reply));
    }

    asio::io_context io;
    WorkerMetrics metrics;
    Forwarder forwarder{io.get_executor(), metrics};
    UpstreamReply reply;
};

const std::string kHello = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello";

/// Relays the rest of the last reply to a client over a loopback pair, then ends the client's
/// connection; answers how the relay went and all the client received.
std::pair<StreamingBody::Relayed, std::string> relay_to_client(ForwarderUnderTest& test,
                                                               std::string_view request_id) {
    auto [ours, client] = socket_pair(test.io);
    TimedStream client_side(Transport(std::move(ours)), 50ms);
    ClientHeadEdits edits;
    edits.request_id = request_id;
    const auto relayed = run_task(
        test.io, test.reply.rest->relay(client_side, test.reply.response.base(), edits, 1000ms));
    client_side.transport().shutdown_send();
    std::string received;
    boost::system::error_code ec;
    asio::read(client, asio::dynamic_buffer(received), ec);
    return {relayed, received};
}

}  // namespace

TEST_CASE("forwarder: a buffered answer comes back whole, and its connection carries the next request") {
    ForwarderUnderTest test;
    ScriptedUpstream upstream(test.io);
    upstream.then(kHello);
    upstream.then(kHello);
    const auto config = upstream_at({upstream.port()});

    REQUIRE(test.forward(config, kGetHead));
    CHECK(test.reply.response.result_int() == 200);
    CHECK(test.reply.response.body() == "hello");
    CHECK(test.reply.response[http::field::content_type] == "text/plain");
    CHECK_FALSE(test.reply.rest);
    REQUIRE(test.reply.endpoint);
    CHECK(test.reply.endpoint->port == upstream.port());
    CHECK(test.forwarder.open_connections() == 1);

    REQUIRE(test.forward(config, kGetHead));
    CHECK(test.reply.response.body() == "hello");
    CHECK(upstream.connections_accepted == 1);
    CHECK(upstream.request_heads == std::vector<std::string>{kGetHead, kGetHead});
}

TEST_CASE("forwarder: interim 1xx answers are skipped, the final one is the answer") {
    ForwarderUnderTest test;
    ScriptedUpstream upstream(test.io);
    upstream.then("HTTP/1.1 100 Continue\r\n\r\n"
                  "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
                  "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
    upstream.then(kHello);
    const auto config = upstream_at({upstream.port()});
    REQUIRE(test.forward(config, kGetHead));
    CHECK(test.reply.response.result_int() == 201);
    // Nothing of the interim answers stayed in the connection for the next request.
    REQUIRE(test.forward(config, kGetHead));
    CHECK(test.reply.response.result_int() == 200);
    CHECK(test.reply.response.body() == "hello");
}

TEST_CASE("forwarder: a GET the reused connection dropped unanswered goes once more on a fresh one; a PATCH does not") {
    ForwarderUnderTest test;
    ScriptedUpstream upstream(test.io);
    const auto config = upstream_at({upstream.port()});
    upstream.then(kHello);
    REQUIRE(test.forward(config, kGetHead));

    // The upstream drops the kept-alive connection as the next request arrives on it.
    upstream.then_close();
    upstream.then(kHello);
    REQUIRE(test.forward(config, kGetHead));
    CHECK(test.reply.response.body() == "hello");
    CHECK(upstream.connections_accepted == 2);

    upstream.then_close();
    const auto patched = test.forward(config, kPatchHead, http::verb::patch);
    REQUIRE_FALSE(patched);
    CHECK(patched.error().errc == Errc::upstream_reset);
    CHECK(patched.error().detail == "upstream test closed the connection without answering");
    CHECK(upstream.connections_accepted == 2);  // not sent twice
}

TEST_CASE("forwarder: a status of 101 or outside 100 to 599 is a bad response, named as such") {
    ForwarderUnderTest test;
    ScriptedUpstream upstream(test.io);
    const auto config = upstream_at({upstream.port()});
    upstream.then("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n");
    const auto upgraded = test.forward(config, kGetHead);
    REQUIRE_FALSE(upgraded);
    CHECK(upgraded.error().errc == Errc::upstream_bad_response);
    CHECK_THAT(upgraded.error().detail, Catch::StartsWith("upstream test sent an invalid HTTP response: status 101"));

    upstream.then("HTTP/1.1 999 Whatever\r\nContent-Length: 0\r\n\r\n");
    const auto odd = test.forward(config, kGetHead);
    REQUIRE_FALSE(odd);
    CHECK(odd.error().errc == Errc::upstream_bad_response);
    CHECK_THAT(odd.error().detail, Catch::Contains("status 999"));
    CHECK(test.forwarder.open_connections() == 0);  // neither connection is reused
}

TEST_CASE("forwarder: an answer whose Content-Length is over max_response_bytes is refused before its body") {
    ForwarderUnderTest test;
    ScriptedUpstream upstream(test.io);
    auto config = upstream_at({upstream.port()});
    config.max_response_bytes = 1000;
    upstream.then("HTTP/1.1 200 OK\r\nContent-Length: 1001\r\n\r\n");
    const auto result = test.forward(config, kGetHead);
    REQUIRE_FALSE(result);
    CHECK(result.error().errc == Errc::upstream_bad_response);
    CHECK(result.error().detail == "upstream test sent a response body over the 1000-byte limit");
}

TEST_CASE("forwarder: no answer within request_timeout is upstream_timeout, and the connection is not kept") {
    ForwarderUnderTest test;
    ScriptedUpstream upstream(test.io);
    auto config = upstream_at({upstream.port()});
    config.request_timeout = 200ms;
    upstream.then_silence();
    const auto started = std::chrono::steady_clock::now();
    const auto result = test.forward(config, kGetHead);
    const auto waited = std::chrono::steady_clock::now() - started;
    REQUIRE_FALSE(result);
    CHECK(result.error().errc == Errc::upstream_timeout);
    CHECK(result.error().detail == "no complete response from upstream test within 200 ms");
    CHECK(waited >= 190ms);
    CHECK(waited < 1500ms);
    CHECK(test.forwarder.open_connections() == 0);
}

TEST_CASE("forwarder: a refused connect is upstream_unreachable, naming the upstream and not its address") {
    ForwarderUnderTest test;
    std::uint16_t closed_port = 0;
    {
        ScriptedUpstream gone(test.io);  // a port that was just free
        closed_port = gone.port();
    }
    const auto result = test.forward(upstream_at({closed_port}), kGetHead);
    REQUIRE_FALSE(result);
    CHECK(result.error().errc == Errc::upstream_unreachable);
    CHECK_THAT(result.error().detail, Catch::StartsWith("connecting to upstream test failed: "));
    CHECK_THAT(result.error().detail, !Catch::Contains("127.0.0.1"));
}

TEST_CASE("forwarder: requests take the endpoints in turn") {
    ForwarderUnderTest test;
    ScriptedUpstream first(test.io), second(test.io);
    for (int i = 0; i < 2; ++i) {
        first.then(kHello);
        second.then(kHello);
    }
    const auto config = upstream_at({first.port(), second.port()});
    for (int i = 0; i < 4; ++i) REQUIRE(test.forward(config, kGetHead));
    CHECK(first.request_heads.size() == 2);
    CHECK(second.request_heads.size() == 2);
}

TEST_CASE("forwarder: a success over response_buffer_bytes is relayed as it comes, its length kept") {
    ForwarderUnderTest test;
    ScriptedUpstream upstream(test.io);
    auto config = upstream_at({upstream.port()});
    config.response_buffer_bytes = 16;
    const std::string body(100, 'b');
    upstream.then("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + body);
    REQUIRE(test.forward(config, kGetHead));
    REQUIRE(test.reply.rest);
    CHECK(test.reply.response.body().empty());  // the first bytes are the relay's now
    CHECK(test.forwarder.open_connections() == 1);

    const auto [relayed, received] = relay_to_client(test, "id-1");
    CHECK(relayed.keep_alive);
    CHECK(received == "HTTP/1.1 200 OK\r\nX-Request-Id: id-1\r\nContent-Length: 100\r\n\r\n" + body);
    CHECK(relayed.bytes_written == received.size());
    // The whole body was read: the connection went back to the pool for the next request.
    test.reply.rest.reset();
    upstream.then(kHello);
    REQUIRE(test.forward(config, kGetHead));
    CHECK(upstream.connections_accepted == 1);
}

TEST_CASE("forwarder: a streamed success of unknown length is chunked to the client") {
    ForwarderUnderTest test;
    ScriptedUpstream upstream(test.io);
    auto config = upstream_at({upstream.port()});
    config.response_buffer_bytes = 8;
    upstream.then_close("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n0123456789abcdef");
    REQUIRE(test.forward(config, kGetHead));
    REQUIRE(test.reply.rest);

    const std::string received = relay_to_client(test, "id-2").second;
    CHECK_THAT(received, Catch::StartsWith("HTTP/1.1 200 OK\r\nX-Request-Id: id-2\r\nTransfer-Encoding: chunked\r\n\r\n"));
    CHECK_THAT(received, Catch::EndsWith("\r\n0\r\n\r\n"));
    // The chunks carry the body in order, whatever their sizes.
    std::string body;
    std::string_view rest = std::string_view(received).substr(received.find("\r\n\r\n") + 4);
    while (true) {
        const auto line_end = rest.find("\r\n");
        const std::size_t size = std::stoul(std::string(rest.substr(0, line_end)), nullptr, 16);
        if (size == 0) break;
        body += rest.substr(line_end + 2, size);
        rest.remove_prefix(line_end + 2 + size + 2);
    }
    CHECK(body == "0123456789abcdef");
}
