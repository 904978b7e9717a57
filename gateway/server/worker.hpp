#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <optional>

#include "config/config.hpp"
#include "pipeline/request_pipeline.hpp"
#include "server/client_connection.hpp"
#include "upstream/forwarder.hpp"
#include "upstream/header_policy.hpp"
#include "io/executor.hpp"
#include "io/mailbox.hpp"

namespace gateway {

/// The addresses a worker accepts on: plain HTTP, HTTPS, or both.
struct ListenAddresses {
    std::optional<boost::asio::ip::tcp::endpoint> plain;
    std::optional<boost::asio::ip::tcp::endpoint> tls;
};

/// One thread's share of the gateway: its own io_context, its own SO_REUSEPORT acceptors on the
/// shared listen addresses (the kernel spreads connections), its own upstream pools. Nothing
/// mutable is shared between workers, so the data path takes no locks.
class Worker {
public:
    /// `access_log` may be null (no log); it and `handshake_log` must outlive the worker.
    /// `upstream_states`, `rate_limiter` and `redis_health` (what all workers share of the
    /// upstreams, of the routes' local limits and of the global limits' Redis) must outlive it too.
    Worker(std::shared_ptr<const Config> config, const ListenAddresses& listen,
           std::atomic<std::size_t>& open_connections, AccessLog* access_log,
           LogThrottle& handshake_log, UpstreamStates& upstream_states, RateLimiter& rate_limiter,
           RedisHealth& redis_health, SpanExporter& spans);

    /// The bound addresses (the real ports when asked for port 0).
    ListenAddresses local_endpoints() const;

    /// Accepts and serves until stop(), or until a drain has finished. Call from the
    /// worker's own thread.
    void run();
    /// Thread-safe: stop accepting, close idle connections, answer the requests in flight
    /// with Connection: close; run() returns once none is left.
    void drain();
    /// Thread-safe: stop at once.
    void stop();
    /// Thread-safe: new requests use `config` from now on (those in flight keep theirs), and
    /// the upstream pools follow it. The future is ready once the worker has switched (or
    /// holds a broken promise if it stopped first).
    std::future<void> apply(std::shared_ptr<const Config> config);
    /// Thread-safe: a copy of this worker's counters and its open upstream connections, taken
    /// on the worker's thread; nothing when the worker does not answer within `wait`.
    std::optional<std::pair<WorkerMetrics, std::size_t>> collect_metrics(
        std::chrono::milliseconds wait);

private:
    Task<void> accept_loop(Acceptor& acceptor, bool tls);

    // One thread runs this context and only it touches it: no locks inside Asio. Other
    // threads reach the worker through mailbox_, never through the context itself.
    boost::asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
    Mailbox mailbox_{io_};
    WorkerMetrics metrics_;
    Forwarder forwarder_;
    GlobalRateLimiter global_limits_;
    RequestPipeline pipeline_;
    RequestIdSource request_ids_;
    ClientContext client_context_;
    std::optional<Acceptor> plain_acceptor_;
    std::optional<Acceptor> tls_acceptor_;
};

}  // namespace gateway
