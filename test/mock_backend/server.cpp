#include "server.hpp"

#include <iostream>
#include <thread>

#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>

#include "connection.hpp"
#include "tls_front.hpp"

namespace mock_backend {

namespace {

using tcp = net::ip::tcp;
using reuse_port = net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

/// Pause after a failed accept (typically EMFILE) so the loop does not spin on the error.
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};

void open_acceptor(tcp::acceptor& acceptor, const tcp::endpoint& endpoint, bool share_port) {
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    // Only with several acceptors: otherwise a second mock-backend started on the same fixed
    // port would silently share it instead of failing, and tests would talk to the wrong one.
    if (share_port) acceptor.set_option(reuse_port(true));
    acceptor.bind(endpoint);
    acceptor.listen(net::socket_base::max_listen_connections);
}

net::awaitable<void> accept_loop(tcp::acceptor& acceptor, MockState& state, bool quiet,
                                 std::shared_ptr<net::ssl::context> tls, tcp::endpoint inner,
                                 bool log_tls_handshakes) {
    for (;;) {
        error_code ec;
        tcp::socket socket = co_await acceptor.async_accept(with_ec(ec));
        if (ec == net::error::operation_aborted) co_return;
        if (ec) {
            if (!quiet) std::cerr << "mock-backend: accept failed: " << ec.message() << '\n';
            net::steady_timer timer{acceptor.get_executor(), kAcceptRetryDelay};
            co_await timer.async_wait(with_ec(ec));
            if (ec) co_return;
            continue;
        }
        // Small responses must not wait for Nagle; benchmarks measure latency.
        socket.set_option(tcp::no_delay(true), ec);
        auto executor = socket.get_executor();
        if (tls) {
            net::co_spawn(executor, serve_tls_connection(std::move(socket), tls, inner, log_tls_handshakes),
                          [](std::exception_ptr) {});
            continue;
        }
        net::co_spawn(executor, serve_connection(std::move(socket), state), [](std::exception_ptr) {
            // serve_connection catches everything; this is a second line of defence only.
        });
    }
}

}  // namespace

struct Server::Worker {
    // Concurrency hint 1: each context is run by exactly one thread, so Asio can skip locking.
    net::io_context context{1};
    tcp::acceptor acceptor{context};
};

Server::Server(const ServerConfig& config)
    : state_{config.state},
      quiet_{config.quiet},
      tls_{config.tls},
      log_tls_handshakes_{config.log_tls_handshakes} {
    const unsigned count = config.threads == 0 ? 1 : config.threads;
    const bool share_port = count > 1;
    tcp::endpoint endpoint = config.endpoint;
    for (unsigned i = 0; i < count; ++i) {
        auto worker = std::make_unique<Worker>();
        open_acceptor(worker->acceptor, endpoint, share_port);
        // With port 0 the first bind picks the port; the others must join that same port.
        endpoint = worker->acceptor.local_endpoint();
        workers_.push_back(std::move(worker));
    }
    if (tls_) {
        inner_ = std::make_unique<tcp::acceptor>(workers_.front()->context);
        open_acceptor(*inner_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0), false);
    }
}

Server::~Server() = default;

tcp::endpoint Server::local_endpoint() const {
    return workers_.front()->acceptor.local_endpoint();
}

net::io_context& Server::main_context() {
    return workers_.front()->context;
}

void Server::run() {
    for (auto& worker : workers_) {
        net::co_spawn(
            worker->context,
            accept_loop(worker->acceptor, *state_, quiet_, tls_,
                        inner_ ? inner_->local_endpoint() : tcp::endpoint(), log_tls_handshakes_),
            [](std::exception_ptr) {});
    }
    if (inner_) {
        net::co_spawn(workers_.front()->context,
                      accept_loop(*inner_, *state_, quiet_, nullptr, {}, false),
                      [](std::exception_ptr) {});
    }
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < workers_.size(); ++i) {
        threads.emplace_back([&context = workers_[i]->context, quiet = quiet_] {
            try {
                context.run();
            } catch (const std::exception& e) {
                // Sessions catch their own exceptions; reaching this is a bug, but one that
                // should cost a thread's connections, not the process.
                if (!quiet) std::cerr << "mock-backend: worker stopped: " << e.what() << '\n';
            }
        });
    }
    workers_.front()->context.run();
    for (auto& thread : threads) thread.join();
}

void Server::stop() {
    for (auto& worker : workers_) worker->context.stop();
}

}  // namespace mock_backend
