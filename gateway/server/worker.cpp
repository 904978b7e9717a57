#include "server/worker.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <future>
#include <iostream>

namespace gateway {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

Acceptor open_acceptor(asio::io_context& io, const tcp::endpoint& endpoint) {
    Acceptor acceptor(io);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.set_option(ReusePort(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    return acceptor;
}

}  // namespace

Worker::Worker(std::shared_ptr<const Config> config, const ListenAddresses& listen,
               std::atomic<std::size_t>& open_connections, AccessLog* access_log,
               LogThrottle& handshake_log, UpstreamStates& upstream_states,
               RateLimiter& rate_limiter, RedisHealth& redis_health, SpanExporter& spans)
    : forwarder_(io_.get_executor(), metrics_, upstream_states,
                 [this](std::function<void()> task) { mailbox_.post(std::move(task)); }),
      global_limits_(io_.get_executor(), redis_health),
      pipeline_(forwarder_, global_limits_),
      client_context_{std::move(config), pipeline_, request_ids_, open_connections, metrics_,
                       access_log} {
    client_context_.handshake_log = &handshake_log;
    client_context_.rate_limiter = &rate_limiter;
    client_context_.spans = &spans;
    forwarder_.retain_only(client_context_.config);
    global_limits_.apply(*client_context_.config);
    if (listen.plain) plain_acceptor_.emplace(open_acceptor(io_, *listen.plain));
    if (listen.tls) tls_acceptor_.emplace(open_acceptor(io_, *listen.tls));
}

ListenAddresses Worker::local_endpoints() const {
    ListenAddresses bound;
    if (plain_acceptor_) bound.plain = plain_acceptor_->local_endpoint();
    if (tls_acceptor_) bound.tls = tls_acceptor_->local_endpoint();
    return bound;
}

void Worker::run() {
    if (plain_acceptor_) asio::co_spawn(io_, accept_loop(*plain_acceptor_, false), asio::detached);
    if (tls_acceptor_) asio::co_spawn(io_, accept_loop(*tls_acceptor_, true), asio::detached);
    mailbox_.open();  // after the accept loop: the context has work besides the doorbell
    io_.run();
}

void Worker::drain() {
    mailbox_.post([this] {
        client_context_.draining = true;
        boost::system::error_code ignored;
        if (plain_acceptor_) plain_acceptor_->close(ignored);
        if (tls_acceptor_) tls_acceptor_->close(ignored);
        for (auto* stream : client_context_.idle_streams) stream->close();
    });
}

void Worker::stop() {
    mailbox_.post([this] { io_.stop(); });
}

std::optional<std::pair<WorkerMetrics, std::size_t>> Worker::collect_metrics(
    std::chrono::milliseconds wait) {
    auto promise = std::make_shared<std::promise<std::pair<WorkerMetrics, std::size_t>>>();
    auto future = promise->get_future();
    mailbox_.post([this, promise] {
        promise->set_value({metrics_, forwarder_.open_connections()});
    });
    if (future.wait_for(wait) != std::future_status::ready) return std::nullopt;
    return future.get();
}

std::future<void> Worker::apply(std::shared_ptr<const Config> config) {
    auto switched = std::make_shared<std::promise<void>>();
    auto future = switched->get_future();
    mailbox_.post([this, config = std::move(config), switched]() mutable {
        forwarder_.retain_only(config);
        global_limits_.apply(*config);
        client_context_.config = std::move(config);
        switched->set_value();
    });
    return future;
}

Task<void> Worker::accept_loop(Acceptor& acceptor, bool tls) {
    while (true) {
        boost::system::error_code ec;
        Socket socket = co_await acceptor.async_accept(asio::redirect_error(use_task, ec));
        // Closed by a drain (possibly before this loop even started): accept no more.
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        if (ec) {
            // Out of descriptors or memory: back off instead of spinning on accept.
            std::cerr << "gateway: accept failed: " << ec.message() << "\n";
            Timer pause(io_, std::chrono::milliseconds(50));
            co_await pause.async_wait(asio::redirect_error(use_task, ec));
            continue;
        }
        if (tls) {
            serve_tls_client(Transport(std::move(socket)), client_context_);
        } else {
            serve_client(Transport(std::move(socket)), client_context_);
        }
    }
}

}  // namespace gateway
