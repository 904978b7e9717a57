#pragma once

#include <cstdint>
#include <string>

#include "observe/worker_metrics.hpp"

namespace gateway {

/// Process-wide values read at scrape time.
struct ProcessGauges {
    std::uint64_t open_client_connections = 0;
    std::uint64_t pooled_upstream_connections = 0;
    std::uint64_t config_loads = 0;
    std::uint64_t config_reload_failures = 0;
    std::uint64_t access_log_dropped_lines = 0;
};

/// The Prometheus text exposition (format 0.0.4) of the summed worker counters, serialised by
/// prometheus-cpp so that names, labels and escaping follow the format exactly.
std::string render_metrics(const WorkerMetrics& summed, const ProcessGauges& gauges);

}  // namespace gateway
