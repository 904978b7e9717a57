#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "config/config.hpp"
#include "io/executor.hpp"
#include "upstream/upstream_state.hpp"

namespace gateway {

/// The active health checks (`health_check:`), once per process on a thread of their own, so
/// that N workers do not probe a fragile backend N times and a slow probe never delays a
/// request. Each endpoint has its own loop: `GET path` on a new connection (TLS when the
/// upstream has `tls:`), a pass for a 2xx within timeout_ms, then the next after interval_ms,
/// each wait jittered by up to a tenth so that probes of many endpoints (and of many
/// replicas) spread out. Results go to the endpoint's shared state (UpstreamState::record_probe).
class HealthChecker {
public:
    explicit HealthChecker(UpstreamStates& states);
    ~HealthChecker();
    HealthChecker(const HealthChecker&) = delete;
    HealthChecker& operator=(const HealthChecker&) = delete;

    /// Thread-safe: probes the endpoints of `config` from now on. An endpoint whose upstream,
    /// address and probe settings stay goes on with its loop (and its streak of results);
    /// endpoints that left are no longer probed.
    void apply(std::shared_ptr<const Config> config);

    /// Stops every loop and the thread (also done by the destructor).
    void stop();

    struct Loop;  // one endpoint's probing (health_checker.cpp)

private:
    Task<void> run(std::shared_ptr<Loop> loop);
    void switch_to(const std::shared_ptr<const Config>& config);

    UpstreamStates& states_;
    boost::asio::io_context io_{1};
    boost::asio::executor_work_guard<Executor> work_{io_.get_executor()};
    std::map<std::string, std::shared_ptr<Loop>> loops_;  // by identity; on the thread only
    std::minstd_rand random_{std::random_device{}()};     // the jitter; on the thread only
    std::thread thread_;
};

}  // namespace gateway
