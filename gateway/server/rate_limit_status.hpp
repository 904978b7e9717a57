#pragma once

#include <chrono>
#include <string>

#include "config/config.hpp"
#include "observe/worker_metrics.hpp"
#include "upstream/redis_health.hpp"

namespace gateway {

/// The body of admin GET /ratelimits: the global limits' Redis (endpoints, state, breaker,
/// last error) and, per rate-limited route of `config`, its limit and the decisions the
/// workers counted (`summed`): allowed, denied, and fallbacks by reason.
std::string rate_limits_json(const Config& config, const WorkerMetrics& summed,
                             const RedisHealth& health, std::chrono::steady_clock::time_point now);

/// RedisHealth's state as /ratelimits and the logs name it.
std::string_view redis_state_name(RedisHealth::State state);

}  // namespace gateway
