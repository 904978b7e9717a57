#include "upstream/upstream_state.hpp"

#include <algorithm>
#include <iostream>

namespace gateway {

namespace {

/// After an endpoint has stayed in service this many times as long as its last ejection, its
/// next ejection starts from the base length again: a backend that failed once an hour ago is
/// not punished for it now.
constexpr int kForgetAfterEjections = 3;

std::int64_t ticks(SteadyClock::time_point at) { return at.time_since_epoch().count(); }

std::string milliseconds_text(SteadyClock::duration duration) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(duration).count()) +
           " ms";
}

}  // namespace

std::string_view to_string(ProbeHealth health) noexcept {
    switch (health) {
        case ProbeHealth::healthy: return "healthy";
        case ProbeHealth::unhealthy: return "unhealthy";
        case ProbeHealth::unknown: break;
    }
    return "unknown";
}

std::vector<std::shared_ptr<EndpointState>> UpstreamState::endpoints_for(
    const UpstreamConfig& upstream, bool adopt) {
    const std::lock_guard lock(mutex_);
    std::vector<std::shared_ptr<EndpointState>> states;
    states.reserve(upstream.endpoints.size());
    for (const auto& endpoint : upstream.endpoints) {
        const std::string name = endpoint.to_string();
        const auto known = std::find_if(endpoints_.begin(), endpoints_.end(),
                                        [&](const auto& state) { return state->name() == name; });
        // An endpoint listed twice is one endpoint: it shares one state.
        const auto twin = std::find_if(states.begin(), states.end(),
                                       [&](const auto& state) { return state->name() == name; });
        if (twin != states.end()) {
            states.push_back(*twin);
        } else if (known != endpoints_.end()) {
            states.push_back(*known);
        } else {
            states.push_back(std::make_shared<EndpointState>(name));
        }
    }
    if (adopt) {
        endpoints_.clear();
        for (const auto& state : states) {
            if (std::find(endpoints_.begin(), endpoints_.end(), state) == endpoints_.end()) {
                endpoints_.push_back(state);
            }
        }
    }
    return states;
}

void UpstreamState::record_failure(EndpointState& endpoint, const UpstreamConfig& upstream,
                                   std::string_view error, SteadyClock::time_point now) {
    const auto failures = endpoint.consecutive_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
    const std::lock_guard lock(mutex_);
    endpoint.last_error_.assign(error);
    if (!upstream.outlier_detection) return;
    const OutlierDetection& settings = *upstream.outlier_detection;
    if (failures < settings.consecutive_failures || endpoint.ejected(now)) return;
    // Only endpoints of the config in force are ejected: a request of an older snapshot may
    // still report on one that is gone.
    if (std::find_if(endpoints_.begin(), endpoints_.end(),
                     [&](const auto& state) { return state.get() == &endpoint; }) == endpoints_.end()) {
        return;
    }
    const auto ejected = static_cast<std::size_t>(std::count_if(
        endpoints_.begin(), endpoints_.end(), [&](const auto& state) { return state->ejected(now); }));
    if ((ejected + 1) * 100 > settings.max_ejected_percent * endpoints_.size()) return;
    eject(endpoint, settings, error, now);
}

void UpstreamState::eject(EndpointState& endpoint, const OutlierDetection& settings,
                          std::string_view error, SteadyClock::time_point now) {
    if (endpoint.ejection_level_ > 0 &&
        ticks(now) - endpoint.ejection_ended_ > (endpoint.last_ejection_ * kForgetAfterEjections).count()) {
        endpoint.ejection_level_ = 0;
    }
    const SteadyClock::duration base = settings.base_ejection;
    const SteadyClock::duration cap = std::max<SteadyClock::duration>(base, OutlierDetection::kMaxEjection);
    SteadyClock::duration length = base;
    for (unsigned i = 0; i < endpoint.ejection_level_ && length < cap; ++i) length *= 2;
    length = std::min(length, cap);
    if (length < cap) ++endpoint.ejection_level_;
    endpoint.last_ejection_ = length;
    endpoint.ejected_until_.store(ticks(now + length), std::memory_order_relaxed);
    endpoint.ejection_ended_ = ticks(now + length);
    endpoint.ejections_.fetch_add(1, std::memory_order_relaxed);
    const auto failures = endpoint.consecutive_failures_.exchange(0, std::memory_order_relaxed);
    std::cerr << "gateway: upstream " << name_ << " endpoint " << endpoint.name() << " ejected for "
              << milliseconds_text(length) << " after " << failures
              << " consecutive failures (last: " << error << ")\n";
}

void UpstreamState::record_probe(EndpointState& endpoint, const UpstreamConfig& upstream,
                                 bool passed, std::string_view error) {
    const std::lock_guard lock(mutex_);
    if (!passed) endpoint.last_error_.assign(error);
    const HealthCheck& settings = *upstream.health_check;
    const ProbeHealth was = endpoint.health();
    const ProbeHealth verdict = passed ? ProbeHealth::healthy : ProbeHealth::unhealthy;
    if (was == verdict) {
        endpoint.probe_streak_ = 0;
    } else {
        ++endpoint.probe_streak_;
        // An endpoint never probed takes the first verdict: at start nothing else is known.
        const std::size_t needed = was == ProbeHealth::unknown ? 1
                                   : passed                   ? settings.healthy_threshold
                                                              : settings.unhealthy_threshold;
        if (endpoint.probe_streak_ >= needed) {
            endpoint.health_.store(verdict, std::memory_order_relaxed);
            endpoint.probe_streak_ = 0;
            std::cerr << "gateway: upstream " << name_ << " endpoint " << endpoint.name() << " is "
                      << to_string(verdict);
            if (passed) {
                std::cerr << " (" << needed << " health check(s) passed)\n";
            } else {
                std::cerr << " after " << needed << " failed health check(s): " << error << "\n";
            }
        }
    }
    // Envoy's default, and what makes recovery quick: an endpoint that answers its health
    // check is no longer ejected, whatever time its ejection had left.
    const auto now = SteadyClock::now();
    if (passed && endpoint.ejected(now)) {
        endpoint.ejected_until_.store(0, std::memory_order_relaxed);
        // Ended now: the next ejection's length still knows this one was recent.
        endpoint.ejection_ended_ = ticks(now);
        endpoint.consecutive_failures_.store(0, std::memory_order_relaxed);
        std::cerr << "gateway: upstream " << name_ << " endpoint " << endpoint.name()
                  << " back in service: it passed its health check\n";
    }
}

bool UpstreamState::has_healthy_endpoint(bool health_checked, SteadyClock::time_point now) const {
    const std::lock_guard lock(mutex_);
    return std::any_of(endpoints_.begin(), endpoints_.end(), [&](const auto& state) {
        if (health_checked && state->health() != ProbeHealth::healthy) return false;
        return state->available(now);
    });
}

std::vector<UpstreamState::EndpointView> UpstreamState::view(SteadyClock::time_point now) const {
    const std::lock_guard lock(mutex_);
    std::vector<EndpointView> views;
    for (const auto& state : endpoints_) {
        const auto until = state->ejected_until_.load(std::memory_order_relaxed);
        const bool ejected = until > ticks(now);
        views.push_back({state->name(), state->health(), ejected,
                         ejected ? std::chrono::ceil<std::chrono::milliseconds>(
                                       SteadyClock::duration(until - ticks(now)))
                                 : std::chrono::milliseconds(0),
                         state->ejections_.load(std::memory_order_relaxed),
                         state->in_flight.load(std::memory_order_relaxed),
                         state->consecutive_failures_.load(std::memory_order_relaxed),
                         state->last_error_});
    }
    return views;
}

std::shared_ptr<UpstreamState> UpstreamStates::get(const std::string& name) {
    const std::lock_guard lock(mutex_);
    auto& state = states_[name];
    if (!state) state = std::make_shared<UpstreamState>(name);
    return state;
}

void UpstreamStates::retain(const Config& config) {
    const std::lock_guard lock(mutex_);
    std::erase_if(states_, [&](const auto& entry) {
        return std::none_of(config.upstreams.begin(), config.upstreams.end(),
                            [&](const auto& upstream) { return upstream.name == entry.first; });
    });
}

std::vector<std::shared_ptr<UpstreamState>> UpstreamStates::all() const {
    const std::lock_guard lock(mutex_);
    std::vector<std::shared_ptr<UpstreamState>> states;
    for (const auto& [name, state] : states_) states.push_back(state);
    return states;
}

}  // namespace gateway
