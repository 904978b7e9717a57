#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "config/config_store.hpp"

namespace gateway {

/// The operators' listener (`--admin HOST:PORT`), on its own thread so that a slow scrape never
/// delays a request: GET /healthz (the process is alive), /readyz (config loaded, not
/// draining, and every upstream of limits.ready_requires_upstreams with a healthy endpoint;
/// 503 otherwise), /upstreams (each upstream's endpoints: health, ejection, load), /ratelimits (each
/// route's limit and decisions, and the global limits' Redis), /routes (the active route table as JSON, with the config's hash
/// and load time), /metrics (Prometheus text format).
class AdminServer {
public:
    /// What the admin port asks the rest of the process, on the admin thread.
    struct Sources {
        std::function<std::string()> metrics;    // the /metrics body
        std::function<std::string()> upstreams;  // the /upstreams body
        std::function<std::string()> rate_limits;  // the /ratelimits body
        /// Why the process is not ready besides draining (empty: it is).
        std::function<std::string()> unready;
    };
    AdminServer(const boost::asio::ip::tcp::endpoint& listen, const ConfigStore& store,
                const std::atomic<bool>& draining, Sources sources);
    ~AdminServer();
    AdminServer(const AdminServer&) = delete;
    AdminServer& operator=(const AdminServer&) = delete;

    boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
    void stop();

private:
    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

    boost::asio::io_context io_{1};
    boost::asio::ip::tcp::acceptor acceptor_;
    const ConfigStore& store_;
    const std::atomic<bool>& draining_;
    Sources sources_;
    std::thread thread_;
};

/// The body of GET /routes for `config`, with the store's reload counts.
std::string routes_json(const Config& config, const ConfigStore& store);

}  // namespace gateway
