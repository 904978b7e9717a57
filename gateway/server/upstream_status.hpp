#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "observe/metrics_exposition.hpp"
#include "upstream/upstream_state.hpp"

namespace gateway {

/// The body of admin GET /upstreams: per upstream of `config`, its protections' state and
/// each endpoint's health, ejection, requests in flight, consecutive failures and last error.
std::string upstreams_json(const Config& config, UpstreamStates& states,
                           std::chrono::steady_clock::time_point now);

/// Why /readyz must say 503 for `limits.ready_requires_upstreams` ("upstream penalties has no
/// healthy endpoint"), or empty when every upstream named there has one.
std::string unready_upstreams(const Config& config, UpstreamStates& states,
                              std::chrono::steady_clock::time_point now);

/// The upstreams' protection state for /metrics.
std::vector<UpstreamProtectionSample> upstream_samples(const Config& config, UpstreamStates& states,
                                                       std::chrono::steady_clock::time_point now);

}  // namespace gateway
