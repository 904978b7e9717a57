#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "observe/worker_metrics.hpp"

namespace gateway {

/// One upstream's protection state at scrape time (shared by all workers, so read once).
struct UpstreamProtectionSample {
    struct Endpoint {
        std::string name;  // HOST:PORT
        bool healthy = true;  // takes traffic: not ejected, not failing its health checks
        std::uint64_t ejections = 0;
    };
    std::string upstream;
    std::int64_t in_flight = 0;
    std::uint64_t overflow_queue_full = 0;
    std::uint64_t overflow_queue_timeout = 0;
    std::uint64_t overflow_expected_wait = 0;
    std::uint64_t retry_budget_exhausted = 0;
    std::uint64_t panics = 0;
    std::vector<Endpoint> endpoints;
};

/// Process-wide values read at scrape time.
struct ProcessGauges {
    std::uint64_t open_client_connections = 0;
    std::uint64_t pooled_upstream_connections = 0;
    std::uint64_t config_loads = 0;
    std::uint64_t config_reload_failures = 0;
    std::uint64_t access_log_dropped_lines = 0;
    std::vector<UpstreamProtectionSample> upstreams;
    /// Per rate-limited route, the buckets its limit holds (at most its max_keys).
    std::vector<std::pair<std::string, std::uint64_t>> rate_limit_keys;
    /// Whether the global rate limits' Redis answers (1), or not (0: down or not yet
    /// answered); absent without a `redis:` section.
    std::optional<bool> redis_up;
    /// The span exporter's counts (tracing:).
    std::uint64_t tracing_spans_exported = 0;
    std::uint64_t tracing_spans_dropped = 0;
    std::uint64_t tracing_export_failures = 0;
};

/// The Prometheus text exposition (format 0.0.4) of the summed worker counters, serialised by
/// prometheus-cpp so that names, labels and escaping follow the format exactly.
std::string render_metrics(const WorkerMetrics& summed, const ProcessGauges& gauges);

}  // namespace gateway
