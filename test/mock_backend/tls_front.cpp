#include "tls_front.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <openssl/x509.h>

#include <array>
#include <iostream>

namespace mock_backend {

namespace {

using tcp = net::ip::tcp;
using TlsStream = net::ssl::stream<tcp::socket>;

constexpr auto kHandshakeTimeout = std::chrono::seconds(10);

template <typename From, typename To>
net::awaitable<void> copy(From& from, To& to) {
    std::array<char, 16 * 1024> chunk;
    for (;;) {
        error_code ec;
        const std::size_t n = co_await from.async_read_some(net::buffer(chunk), with_ec(ec));
        if (ec) co_return;
        co_await net::async_write(to, net::buffer(chunk.data(), n), with_ec(ec));
        if (ec) co_return;
    }
}

}  // namespace

std::shared_ptr<net::ssl::context> make_tls_context(const std::string& cert_file,
                                                    const std::string& key_file,
                                                    const std::string& client_ca_file) {
    auto tls = std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
    SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
    tls->use_certificate_chain_file(cert_file);
    tls->use_private_key_file(key_file, net::ssl::context::pem);
    if (!client_ca_file.empty()) {
        tls->load_verify_file(client_ca_file);
        tls->set_verify_mode(net::ssl::verify_peer | net::ssl::verify_fail_if_no_peer_cert);
        static constexpr unsigned char kSessionContext[] = "mock-backend";
        SSL_CTX_set_session_id_context(tls->native_handle(), kSessionContext, sizeof kSessionContext - 1);
    }
    return tls;
}

namespace {

std::string client_subject(SSL* ssl) {
    X509* peer = SSL_get0_peer_certificate(ssl);
    if (!peer) return "-";
    char text[256];
    X509_NAME_oneline(X509_get_subject_name(peer), text, sizeof text);
    return text;
}

}  // namespace

net::awaitable<void> serve_tls_connection(tcp::socket socket, std::shared_ptr<net::ssl::context> tls,
                                          tcp::endpoint inner, bool log_handshakes) {
    TlsStream client(std::move(socket), *tls);
    error_code ec;
    net::steady_timer deadline(client.get_executor(), kHandshakeTimeout);
    deadline.async_wait([&client](const error_code& timer_ec) {
        if (!timer_ec) client.lowest_layer().close();
    });
    co_await client.async_handshake(net::ssl::stream_base::server, with_ec(ec));
    deadline.cancel();
    if (ec) co_return;
    if (log_handshakes) {
        std::cout << "tls handshake: resumed=" << (SSL_session_reused(client.native_handle()) ? "yes" : "no")
                  << " client=" << client_subject(client.native_handle()) << std::endl;
    }
    tcp::socket plain(client.get_executor());
    co_await plain.async_connect(inner, with_ec(ec));
    if (ec) co_return;
    plain.set_option(tcp::no_delay(true), ec);
    // The mock's answer and close go back to the client; the client's bytes and close go on.
    bool client_done = false;
    net::co_spawn(client.get_executor(),
                  [&]() -> net::awaitable<void> {
                      co_await copy(client, plain);
                      client_done = true;
                      error_code ignored;
                      plain.shutdown(tcp::socket::shutdown_send, ignored);
                  },
                  [](std::exception_ptr) {});
    co_await copy(plain, client);
    // The mock closed (after an answer with Connection: close, or a fault): so does TLS.
    error_code ignored;
    client.lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
    plain.close(ignored);
    // The other direction's coroutine refers to this frame: wait for it to end.
    net::steady_timer pause(client.get_executor());
    while (!client_done) {
        pause.expires_after(std::chrono::milliseconds(1));
        co_await pause.async_wait(with_ec(ignored));
    }
}

}  // namespace mock_backend
