#include <catch2/catch.hpp>

#include <utility>  // before Asio's coroutine headers

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "io/run_task.hpp"
#include "io/socket_pair.hpp"
#include "io/timed_stream.hpp"
#include "io/write_message.hpp"

using namespace gateway;
using gateway::test::run_task;
using gateway::test::socket_pair;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace http = boost::beast::http;
using namespace std::chrono_literals;

TEST_CASE("transport: what came in on a connection nobody reads is seen without blocking") {
    asio::io_context io;
    auto [ours, theirs] = socket_pair(io);
    Transport transport(std::move(ours));
    CHECK_FALSE(transport.is_tls());
    CHECK_FALSE(transport.has_unread_input_or_closed());
    asio::write(theirs, asio::buffer("x", 1));
    CHECK(transport.has_unread_input_or_closed());
    // A peek: the byte is still there to read.
    char byte = 0;
    CHECK(transport.tcp().read_some(asio::buffer(&byte, 1)) == 1);
    CHECK(byte == 'x');
    CHECK_FALSE(transport.has_unread_input_or_closed());
    theirs.close();
    CHECK(transport.has_unread_input_or_closed());
}

TEST_CASE("transport: on plain TCP a small message goes out whole at once; shutdown_send ends it with a FIN") {
    asio::io_context io;
    auto [ours, theirs] = socket_pair(io);
    Transport transport(std::move(ours));
    boost::system::error_code ec;
    CHECK(transport.send_now("head|", "body", ec) == 9);
    CHECK_FALSE(ec);
    CHECK(transport.remote_address() == "127.0.0.1");
    transport.shutdown_send();
    std::string received;
    asio::read(theirs, asio::dynamic_buffer(received), ec);
    CHECK(ec == asio::error::eof);
    CHECK(received == "head|body");
}

namespace {

/// A throw-away self-signed certificate for localhost, made with the openssl command line.
class TestCertificate {
public:
    TestCertificate() {
        std::random_device random;
        dir_ = std::filesystem::temp_directory_path() / ("gateway-tls-" + std::to_string(random()));
        std::filesystem::create_directories(dir_);
        const std::string command =
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
            "-subj /CN=localhost -keyout '" + key() + "' -out '" + certificate() + "' 2>/dev/null";
        REQUIRE(std::system(command.c_str()) == 0);
    }
    ~TestCertificate() {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    std::string key() const { return (dir_ / "key.pem").string(); }
    std::string certificate() const { return (dir_ / "cert.pem").string(); }

private:
    std::filesystem::path dir_;
};

/// A server and a client TimedStream over TLS on a loopback pair, handshaken.
struct TlsPair {
    TlsPair() : server_tls(ssl::context::tls_server), client_tls(ssl::context::tls_client) {
        server_tls.use_certificate_chain_file(certificate.certificate());
        server_tls.use_private_key_file(certificate.key(), ssl::context::pem);
        client_tls.load_verify_file(certificate.certificate());
        client_tls.set_verify_mode(ssl::verify_peer);
        auto [accepted, connecting] = socket_pair(io);
        server.emplace(Transport(std::move(accepted)), 50ms);
        client.emplace(Transport(std::move(connecting)), 50ms);
        server->transport().start_tls(server_tls);
        client->transport().start_tls(client_tls);
        boost::system::error_code server_ec = asio::error::would_block;
        boost::system::error_code client_ec = asio::error::would_block;
        server->transport().tls_stream()->async_handshake(
            ssl::stream_base::server, [&](const boost::system::error_code& ec) { server_ec = ec; });
        client->transport().tls_stream()->async_handshake(
            ssl::stream_base::client, [&](const boost::system::error_code& ec) { client_ec = ec; });
        io.run_for(5s);
        REQUIRE_FALSE(server_ec);
        REQUIRE_FALSE(client_ec);
    }

    TestCertificate certificate;
    asio::io_context io;
    ssl::context server_tls;
    ssl::context client_tls;
    std::optional<TimedStream> server;
    std::optional<TimedStream> client;
};

Task<std::size_t> write_answer(TimedStream& stream, std::string_view head, std::string_view body,
                               boost::system::error_code& ec) {
    co_return co_await write_head_and_body(stream, head, body, ec);
}

Task<unsigned> read_answer(TimedStream& stream, boost::beast::flat_buffer& buffer,
                           http::response<http::string_body>& answer) {
    boost::system::error_code ec;
    co_await http::async_read(stream, buffer, answer, asio::redirect_error(use_task, ec));
    co_return ec ? 0u : answer.result_int();
}

}  // namespace

TEST_CASE("transport: over TLS the same stream carries HTTP both ways, through the asynchronous path") {
    TlsPair tls;
    REQUIRE(tls.server->transport().is_tls());
    boost::system::error_code ec;
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
    boost::system::error_code nothing_sent;
    CHECK(tls.server->transport().send_now(head, "", nothing_sent) == 0);  // records go async
    CHECK(run_task(tls.io, write_answer(*tls.server, head, "hello", ec)) == head.size() + 5);
    CHECK_FALSE(ec);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> answer;
    CHECK(run_task(tls.io, read_answer(*tls.client, buffer, answer)) == 200);
    CHECK(answer.body() == "hello");
}

TEST_CASE("transport: over TLS a read past its deadline ends with timeout, as on plain TCP") {
    TlsPair tls;
    std::array<char, 16> bytes{};
    boost::system::error_code result;
    tls.client->expires_after(100ms);
    tls.client->async_read_some(asio::buffer(bytes), [&](boost::system::error_code ec, std::size_t) {
        result = tls.client->result(ec);
    });
    gateway::test::run_for(tls.io, 2s);
    CHECK(result == boost::beast::error::timeout);
    CHECK(tls.client->timed_out());
}
