#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "upstream/admission_gate.hpp"
#include "upstream/retry_budget.hpp"

namespace gateway {

using SteadyClock = std::chrono::steady_clock;

/// What the active health checks say of an endpoint. `unknown` until its first probe answers
/// (and for endpoints without health checks): such an endpoint takes traffic.
enum class ProbeHealth : std::uint8_t { unknown, healthy, unhealthy };

std::string_view to_string(ProbeHealth health) noexcept;

/// One endpoint of one upstream as the whole process sees it: every worker reads it on the
/// request path (atomics only), failures and probes change it (the rare transitions under the
/// upstream's mutex). It is known by the upstream's name and the endpoint's HOST:PORT, so a
/// reload that keeps the endpoint keeps its health, its ejection and its counts.
class EndpointState {
public:
    explicit EndpointState(std::string name) : name_(std::move(name)) {}
    EndpointState(const EndpointState&) = delete;
    EndpointState& operator=(const EndpointState&) = delete;

    /// HOST:PORT as routes.yaml writes it.
    const std::string& name() const noexcept { return name_; }

    bool ejected(SteadyClock::time_point now) const noexcept {
        return ejected_until_.load(std::memory_order_relaxed) > now.time_since_epoch().count();
    }
    ProbeHealth health() const noexcept { return health_.load(std::memory_order_relaxed); }
    /// Requests may go to it: not ejected, not failed by its health checks.
    bool available(SteadyClock::time_point now) const noexcept {
        return health() != ProbeHealth::unhealthy && !ejected(now);
    }

    /// Requests on it now, all workers together (least_request reads it, /upstreams shows it).
    std::atomic<std::int64_t> in_flight{0};

private:
    friend class UpstreamState;

    std::string name_;
    std::atomic<std::int64_t> ejected_until_{0};  // steady_clock ticks; in the past: not ejected
    std::atomic<std::uint32_t> consecutive_failures_{0};
    std::atomic<ProbeHealth> health_{ProbeHealth::unknown};
    std::atomic<std::uint64_t> ejections_{0};
    // Guarded by the upstream's mutex.
    unsigned ejection_level_ = 0;  // how often the next ejection's length is doubled
    SteadyClock::duration last_ejection_{0};
    std::int64_t ejection_ended_ = 0;  // when the last ejection ended (or ends), in ticks
    std::uint32_t probe_streak_ = 0;  // probes in a row that disagree with `health_`
    std::string last_error_;
};

/// One upstream's shared state: its endpoints' health and ejections, its max_in_flight gate,
/// its retry budget and the counters /metrics shows. Thread-safe.
class UpstreamState {
public:
    explicit UpstreamState(std::string name) : name_(std::move(name)) {}

    const std::string& name() const noexcept { return name_; }

    /// The states of `upstream`'s endpoints in its order: those it had kept (by HOST:PORT), new
    /// ones made. `adopt`: they become the upstream's endpoints (those max_ejected_percent
    /// counts and /upstreams shows); a request of an older config snapshot looks up without.
    std::vector<std::shared_ptr<EndpointState>> endpoints_for(const UpstreamConfig& upstream,
                                                              bool adopt);

    /// An answer that was no failure: the endpoint's run of failures ends.
    static void record_success(EndpointState& endpoint) noexcept {
        if (endpoint.consecutive_failures_.load(std::memory_order_relaxed) != 0) {
            endpoint.consecutive_failures_.store(0, std::memory_order_relaxed);
        }
    }
    /// A refused connection, a reset, a timeout, an invalid answer or a 5xx. With outlier
    /// detection, the endpoint is ejected after its consecutive_failures-th in a row, unless
    /// that would eject more than max_ejected_percent of the upstream's endpoints.
    void record_failure(EndpointState& endpoint, const UpstreamConfig& upstream,
                        std::string_view error, SteadyClock::time_point now);
    /// One health probe's result (`error`: why it failed, empty when it passed).
    void record_probe(EndpointState& endpoint, const UpstreamConfig& upstream, bool passed,
                      std::string_view error);

    /// Whether at least one endpoint takes traffic by its health (probes and ejections);
    /// with health checks configured, an endpoint not probed yet does not count.
    bool has_healthy_endpoint(bool health_checked, SteadyClock::time_point now) const;

    AdmissionGate& gate() noexcept { return gate_; }
    RetryBudget& retry_budget() noexcept { return retry_budget_; }

    std::atomic<std::uint64_t> overflow_queue_full{0};      // beyond max_in_flight + max_pending
    std::atomic<std::uint64_t> overflow_queue_timeout{0};   // waited queue_timeout_ms in vain
    std::atomic<std::uint64_t> overflow_expected_wait{0};   // would have waited too long
    std::atomic<std::uint64_t> retry_budget_exhausted{0};
    std::atomic<std::uint64_t> panics{0};  // requests sent although no endpoint was available

    /// A consistent picture for /upstreams and /metrics.
    struct EndpointView {
        std::string name;
        ProbeHealth health;
        bool ejected;
        std::chrono::milliseconds ejected_for;  // left of the ejection; 0 when not ejected
        std::uint64_t ejections;
        std::int64_t in_flight;
        std::uint32_t consecutive_failures;
        std::string last_error;
    };
    std::vector<EndpointView> view(SteadyClock::time_point now) const;

private:
    void eject(EndpointState& endpoint, const OutlierDetection& settings, std::string_view error,
               SteadyClock::time_point now);

    std::string name_;
    AdmissionGate gate_;
    RetryBudget retry_budget_;
    mutable std::mutex mutex_;
    std::vector<std::shared_ptr<EndpointState>> endpoints_;  // guarded by mutex_
};

/// Every upstream's state, by name, for the whole process: what the workers, the health
/// checker and the admin port share. States outlive reloads that keep their upstream.
class UpstreamStates {
public:
    /// The state of the upstream named `name`, made the first time it is asked for.
    std::shared_ptr<UpstreamState> get(const std::string& name);
    /// Drops the states of upstreams `config` no longer has (requests still running on them
    /// keep theirs alive).
    void retain(const Config& config);
    /// All of them, by name.
    std::vector<std::shared_ptr<UpstreamState>> all() const;

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<UpstreamState>, std::less<>> states_;
};

}  // namespace gateway
