#pragma once

#include <memory>
#include <vector>

#include "asio_types.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "mock_state.hpp"

namespace mock_backend {

using tcp_acceptor = net::ip::tcp::acceptor;

struct ServerConfig {
    /// What all connections share (counters, settings, capacity); required.
    std::shared_ptr<MockState> state;
    net::ip::tcp::endpoint endpoint;
    unsigned threads = 1;
    bool quiet = false;  // no diagnostics on stderr (accept failures)
    /// Set: the listen address speaks TLS with it (see tls_front.hpp).
    std::shared_ptr<net::ssl::context> tls{};
    bool log_tls_handshakes = false;  // a line on stdout per TLS handshake (tls_front.hpp)
};

/// The listening side: one io_context, thread and acceptor per --threads, the acceptors sharing
/// the port through SO_REUSEPORT so the kernel spreads connections and no two threads ever
/// touch the same connection (no locks, no strands on the request path).
class Server {
public:
    /// Binds and listens on every acceptor, so the port is known (and connectable) before
    /// run(). Throws boost::system::system_error if the address cannot be bound.
    explicit Server(const ServerConfig& config);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// The bound endpoint, with the real port when the config asked for port 0.
    net::ip::tcp::endpoint local_endpoint() const;

    /// The context run on the calling thread by run(); signal handling lives there.
    net::io_context& main_context();

    /// Serves until stop(); runs the first context on the calling thread, the others on
    /// threads of their own, and returns once all have stopped.
    void run();

    /// Stops every context. Safe to call from any thread or handler.
    void stop();

private:
    struct Worker;
    /// Declared before workers_ so it is destroyed after them: destroying a context destroys
    /// its connections' coroutines, which still release their capacity tickets.
    std::shared_ptr<MockState> state_;
    std::vector<std::unique_ptr<Worker>> workers_;
    bool quiet_;
    std::shared_ptr<net::ssl::context> tls_;
    bool log_tls_handshakes_;
    /// With TLS: the plain listener the TLS front relays to, on the first worker's context.
    std::unique_ptr<tcp_acceptor> inner_;
};

}  // namespace mock_backend
