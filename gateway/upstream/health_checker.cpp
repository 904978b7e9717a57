#include "upstream/health_checker.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include <random>

#include "io/write_message.hpp"
#include "upstream/connector.hpp"

namespace gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

/// One endpoint's probing: what it probes with, and the timer it sleeps on.
struct HealthChecker::Loop {
    Loop(Executor executor, std::shared_ptr<const Config> config_, const UpstreamConfig& upstream_,
         std::size_t index_)
        : config(std::move(config_)), upstream(upstream_), index(index_), timer(std::move(executor)) {}
    std::shared_ptr<const Config> config;  // keeps `upstream` alive
    const UpstreamConfig& upstream;
    std::size_t index;
    std::shared_ptr<UpstreamState> state;
    std::shared_ptr<EndpointState> endpoint;
    std::unique_ptr<Connector> connector;
    Timer timer;
    bool stopped = false;
};

namespace {

/// What tells one loop from another: a loop goes on through a reload only if all of it stays.
std::string identity(const UpstreamConfig& upstream, const Endpoint& endpoint) {
    const HealthCheck& check = *upstream.health_check;
    return upstream.name + '\n' + endpoint.pool_key + '\n' + endpoint.to_string() + '\n' +
           check.path + '\n' + std::to_string(check.interval.count()) + '\n' +
           std::to_string(check.timeout.count()) + '\n' + std::to_string(check.healthy_threshold) +
           '\n' + std::to_string(check.unhealthy_threshold);
}

std::chrono::milliseconds jittered(std::minstd_rand& random, std::chrono::milliseconds base,
                                   double low, double high) {
    std::uniform_real_distribution<double> share(low, high);
    return std::chrono::milliseconds(static_cast<long long>(static_cast<double>(base.count()) * share(random)));
}

std::string host_header(const Endpoint& endpoint) {
    const bool ipv6 = endpoint.host.find(':') != std::string::npos;
    return (ipv6 ? "[" + endpoint.host + "]" : endpoint.host) + ":" + std::to_string(endpoint.port);
}

/// One probe: passed, or why not.
Task<std::string> probe(HealthChecker::Loop& loop) {
    const HealthCheck& check = *loop.upstream.health_check;
    const Endpoint& endpoint = loop.upstream.endpoints[loop.index];
    const auto deadline = std::chrono::steady_clock::now() + check.timeout;
    auto connected = co_await loop.connector->connect(loop.timer.get_executor(), check.timeout, deadline);
    if (!connected) co_return std::move(connected).error().detail;
    UpstreamConnection& connection = **connected;
    connection.stream.expires_at(deadline);
    const std::string head = "GET " + check.path + " HTTP/1.1\r\nHost: " + host_header(endpoint) +
                             "\r\nUser-Agent: gateway-health-check\r\nConnection: close\r\n\r\n";
    boost::system::error_code ec;
    co_await write_head_and_body(connection.stream, head, {}, ec);
    ec = connection.stream.result(ec);
    if (ec) co_return "sending the health check failed: " + ec.message();
    http::response_parser<http::empty_body> parser;
    parser.header_limit(16 * 1024);
    co_await http::async_read_header(connection.stream, connection.buffer, parser,
                                     asio::redirect_error(use_task, ec));
    ec = connection.stream.result(ec);
    if (ec == beast::error::timeout) {
        co_return "no answer to GET " + check.path + " within " +
                  std::to_string(check.timeout.count()) + " ms";
    }
    if (ec) co_return "reading the answer to GET " + check.path + " failed: " + ec.message();
    const unsigned status = parser.get().result_int();
    if (status < 200 || status > 299) {
        co_return "GET " + check.path + " answered " + std::to_string(status);
    }
    co_return std::string();
}

}  // namespace

HealthChecker::HealthChecker(UpstreamStates& states) : states_(states) {
    thread_ = std::thread([this] { io_.run(); });
}

HealthChecker::~HealthChecker() { stop(); }

void HealthChecker::stop() {
    if (!thread_.joinable()) return;
    asio::post(io_, [this] {
        for (auto& [key, loop] : loops_) {
            loop->stopped = true;
            loop->timer.cancel();
        }
        loops_.clear();
        work_.reset();
        io_.stop();  // a probe in progress is abandoned, not waited for
    });
    thread_.join();
}

void HealthChecker::apply(std::shared_ptr<const Config> config) {
    asio::post(io_, [this, config = std::move(config)] { switch_to(config); });
}

void HealthChecker::switch_to(const std::shared_ptr<const Config>& config) {
    std::map<std::string, std::shared_ptr<Loop>> loops;
    for (const auto& upstream : config->upstreams) {
        if (!upstream.health_check) continue;
        const auto state = states_.get(upstream.name);
        const auto endpoints = state->endpoints_for(upstream, true);
        for (std::size_t i = 0; i < upstream.endpoints.size(); ++i) {
            const Endpoint& endpoint = upstream.endpoints[i];
            std::string key = identity(upstream, endpoint);
            if (loops.count(key) != 0) continue;  // an endpoint listed twice is probed once
            if (auto kept = loops_.find(key); kept != loops_.end()) {
                loops.emplace(std::move(key), kept->second);
                loops_.erase(kept);
                continue;
            }
            auto loop = std::make_shared<Loop>(io_.get_executor(), config, upstream, i);
            loop->state = state;
            loop->endpoint = endpoints[i];
            const asio::ip::tcp::endpoint address(asio::ip::make_address(endpoint.address), endpoint.port);
            const std::string name = "upstream " + upstream.name;
            if (upstream.tls) {
                loop->connector = std::make_unique<TlsConnector>(name, address, upstream.health_check->timeout,
                                                                 upstream.tls, endpoint.host);
            } else {
                loop->connector = std::make_unique<TcpConnector>(name, address, upstream.health_check->timeout);
            }
            asio::co_spawn(io_, run(loop), asio::detached);
            loops.emplace(std::move(key), std::move(loop));
        }
    }
    for (auto& [key, loop] : loops_) {
        loop->stopped = true;
        loop->timer.cancel();
    }
    loops_ = std::move(loops);
}

Task<void> HealthChecker::run(std::shared_ptr<Loop> loop) {
    const HealthCheck& check = *loop->upstream.health_check;
    // The first probe soon (readiness waits for it), spread over a tenth of the interval.
    auto wait = jittered(random_, check.interval, 0.0, 0.1);
    while (!loop->stopped) {
        boost::system::error_code ec;
        loop->timer.expires_after(wait);
        co_await loop->timer.async_wait(asio::redirect_error(use_task, ec));
        if (loop->stopped) break;
        const std::string failure = co_await probe(*loop);
        if (loop->stopped) break;
        loop->state->record_probe(*loop->endpoint, loop->upstream, failure.empty(), failure);
        wait = jittered(random_, check.interval, 0.9, 1.1);
    }
}

}  // namespace gateway
