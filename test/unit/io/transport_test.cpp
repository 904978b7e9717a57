#include <catch2/catch.hpp>

#include <utility>  // before Asio's coroutine headers

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
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
        server->transport().set_no_delay();  // as the gateway's: no Nagle wait for an ACK
        client->transport().set_no_delay();
        server->transport().start_tls(server_tls.native_handle());
        client->transport().start_tls(client_tls.native_handle());
        boost::system::error_code server_ec = asio::error::would_block;
        boost::system::error_code client_ec = asio::error::would_block;
        server->transport().tls_stream()->async_handshake(
            TlsStream::Role::server, [&](const boost::system::error_code& ec) { server_ec = ec; });
        client->transport().tls_stream()->async_handshake(
            TlsStream::Role::client, [&](const boost::system::error_code& ec) { client_ec = ec; });
        io.run_for(5s);
        REQUIRE_FALSE(server_ec);
        REQUIRE_FALSE(client_ec);
        io.restart();
    }


    /// The client's read of one HTTP answer: "STATUS BODY".
    std::string client_reads_answer();

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

std::string TlsPair::client_reads_answer() {
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> answer;
    const unsigned status = run_task(io, read_answer(*client, buffer, answer));
    return std::to_string(status) + " " + answer.body();
}

Task<std::size_t> write_async(TimedStream& stream, std::string_view head, std::string_view body,
                               boost::system::error_code& ec) {
    const std::array<asio::const_buffer, 2> parts{asio::buffer(head), asio::buffer(body)};
    co_return co_await asio::async_write(stream, parts, asio::redirect_error(use_task, ec));
}

Task<std::size_t> read_exactly(TimedStream& stream, std::string& into, boost::system::error_code& ec) {
    co_return co_await asio::async_read(stream, asio::buffer(into), asio::redirect_error(use_task, ec));
}

/// The bytes waiting in a socket, left there.
std::size_t waiting_bytes(Socket& socket, std::string& copy) {
    copy.assign(1 << 16, '\0');
    const ssize_t n = ::recv(socket.native_handle(), copy.data(), copy.size(), MSG_PEEK | MSG_DONTWAIT);
    copy.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return copy.size();
}

}  // namespace

TEST_CASE("transport: over TLS the same stream carries HTTP both ways, through the asynchronous path") {
    TlsPair tls;
    REQUIRE(tls.server->transport().is_tls());
    boost::system::error_code ec;
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
    CHECK(run_task(tls.io, write_async(*tls.server, head, "hello", ec)) == head.size() + 5);
    CHECK_FALSE(ec);
    CHECK(tls.client_reads_answer() == "200 hello");
}

TEST_CASE("transport: over TLS a small answer is sent at once, head and body in one record") {
    TlsPair tls;
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
    std::string wire;
    const std::size_t before = waiting_bytes(tls.client->transport().tcp(), wire);  // session tickets
    boost::system::error_code ec;
    CHECK(tls.server->transport().send_now(head, "hello", ec) == head.size() + 5);
    CHECK_FALSE(ec);
    // TLS 1.3: a 5-byte record header, then the payload, its content type and a 16-byte tag.
    REQUIRE(waiting_bytes(tls.client->transport().tcp(), wire) == before + 5 + head.size() + 5 + 1 + 16);
    CHECK(static_cast<unsigned char>(wire[before]) == 0x17);
    CHECK(wire.find("hello") == std::string::npos);  // encrypted
    CHECK(tls.client_reads_answer() == "200 hello");
}

TEST_CASE("transport: over TLS what the socket does not take at once is finished asynchronously, byte for byte") {
    TlsPair tls;
    tls.server->transport().tcp().set_option(asio::socket_base::send_buffer_size(8192));
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 4194304\r\n\r\n";
    std::string body(4u << 20, '\0');
    for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + (i * 7 + i / 9973) % 26);
    boost::system::error_code ec;
    const std::size_t at_once = tls.server->transport().send_now(head, body, ec);
    CHECK_FALSE(ec);
    CHECK(at_once < head.size() + body.size());  // the socket filled up
    boost::system::error_code write_ec;
    std::size_t written = 0;
    asio::co_spawn(tls.io, write_answer(*tls.server, head.substr(at_once < head.size() ? at_once : head.size()),
                                        at_once < head.size() ? std::string_view(body)
                                                              : std::string_view(body).substr(at_once - head.size()),
                                        write_ec),
                   [&](std::exception_ptr, std::size_t n) { written = n; });
    std::string received(head.size() + body.size(), '\0');
    boost::system::error_code read_ec;
    CHECK(run_task(tls.io, read_exactly(*tls.client, received, read_ec)) == received.size());
    tls.io.run_for(1s);
    CHECK_FALSE(read_ec);
    CHECK_FALSE(write_ec);
    CHECK(at_once + written == head.size() + body.size());
    CHECK(received.substr(0, head.size()) == head);
    CHECK((received.substr(head.size()) == body));
}

TEST_CASE("transport: over TLS records read ahead by OpenSSL count as unread input") {
    TlsPair tls;
    boost::system::error_code ec;
    REQUIRE(tls.server->transport().send_now("first", "", ec) == 5);
    REQUIRE(tls.server->transport().send_now("second", "", ec) == 6);
    std::string wire;
    REQUIRE(waiting_bytes(tls.client->transport().tcp(), wire) > 0);
    std::string one(1, '\0');
    CHECK(run_task(tls.io, read_exactly(*tls.client, one, ec)) == 1);
    CHECK(one == "f");
    bool closed = false;
    CHECK_FALSE(tls.client->transport().peek_byte(closed));  // the socket is empty: one recv took both
    CHECK_FALSE(closed);
    CHECK(tls.client->transport().has_unread_input_or_closed());
}

TEST_CASE("transport: over TLS a close_notify reads as EOF and a FIN without one as a truncated stream") {
    SECTION("close_notify") {
        TlsPair tls;
        boost::system::error_code server_ec = asio::error::would_block;
        tls.server->transport().tls_stream()->async_shutdown(
            [&](const boost::system::error_code& ec) { server_ec = ec; });
        std::string byte(1, '\0');
        boost::system::error_code read_ec;
        run_task(tls.io, read_exactly(*tls.client, byte, read_ec));
        CHECK(read_ec == asio::error::eof);
        CHECK(server_ec == asio::error::would_block);  // still waiting for the client's close_notify
        boost::system::error_code client_ec = asio::error::would_block;
        tls.client->transport().tls_stream()->async_shutdown(
            [&](const boost::system::error_code& ec) { client_ec = ec; });
        tls.io.restart();
        tls.io.run_for(1s);
        CHECK_FALSE(client_ec);
        CHECK_FALSE(server_ec);
    }
    SECTION("a FIN alone") {
        TlsPair tls;
        tls.client->transport().shutdown_send();
        std::string byte(1, '\0');
        boost::system::error_code read_ec;
        run_task(tls.io, read_exactly(*tls.server, byte, read_ec));
        CHECK(read_ec == asio::ssl::error::stream_truncated);
    }
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
