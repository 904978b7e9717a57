#include "observe/metrics_exposition.hpp"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <sstream>

namespace gateway {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

ClientMetric histogram_metric(std::vector<ClientMetric::Label> labels, const DurationHistogram& h) {
    ClientMetric metric;
    metric.label = std::move(labels);
    metric.histogram.sample_count = h.count;
    metric.histogram.sample_sum = h.sum_seconds;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kDurationBuckets.size(); ++i) {
        cumulative += h.counts[i];
        metric.histogram.bucket.push_back({cumulative, kDurationBuckets[i]});
    }
    cumulative += h.counts.back();
    metric.histogram.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
    return metric;
}

ClientMetric scalar(std::vector<ClientMetric::Label> labels, double value, bool gauge) {
    ClientMetric metric;
    metric.label = std::move(labels);
    (gauge ? metric.gauge.value : metric.counter.value) = value;
    return metric;
}

}  // namespace

std::string render_metrics(const WorkerMetrics& summed, const ProcessGauges& gauges) {
    std::vector<MetricFamily> families;

    MetricFamily requests{"gateway_requests_total",
                          "Requests answered, by route, method and status class", MetricType::Counter, {}};
    MetricFamily durations{"gateway_request_duration_seconds",
                           "Time from a request's head to its last response byte, by route",
                           MetricType::Histogram, {}};
    for (const auto& [key, series] : summed.routes()) {
        const std::size_t tab = key.find('\t');
        const std::string route = key.substr(0, tab);
        const std::string method = key.substr(tab + 1);
        for (std::size_t status_class = 1; status_class < series.by_status_class.size(); ++status_class) {
            if (series.by_status_class[status_class] == 0) continue;
            requests.metric.push_back(
                scalar({{"route", route}, {"method", method},
                        {"status_class", std::to_string(status_class) + "xx"}},
                       static_cast<double>(series.by_status_class[status_class]), false));
        }
        durations.metric.push_back(histogram_metric({{"route", route}, {"method", method}}, series.duration));
    }

    MetricFamily upstream_durations{"gateway_upstream_duration_seconds",
                                    "Time of upstream exchanges, by upstream", MetricType::Histogram, {}};
    MetricFamily upstream_errors{"gateway_upstream_errors_total",
                                 "Failed upstream exchanges, by upstream and kind", MetricType::Counter, {}};
    for (const auto& [name, series] : summed.upstreams()) {
        upstream_durations.metric.push_back(histogram_metric({{"upstream", name}}, series.duration));
        for (std::size_t kind = 0; kind < kUpstreamFailures.size(); ++kind) {
            upstream_errors.metric.push_back(
                scalar({{"upstream", name}, {"kind", std::string(kUpstreamFailures[kind])}},
                       static_cast<double>(series.failures[kind]), false));
        }
    }

    MetricFamily rejected{"gateway_rejected_requests_total",
                          "Requests the gateway refused itself, by reason", MetricType::Counter, {}};
    for (std::size_t reason = 0; reason < kRejectReasons.size(); ++reason) {
        rejected.metric.push_back(scalar({{"reason", std::string(kRejectReasons[reason])}},
                                         static_cast<double>(summed.rejections()[reason]), false));
    }

    MetricFamily handshake_errors{"gateway_tls_handshake_errors_total",
                                  "Client TLS handshakes that failed, by reason", MetricType::Counter, {}};
    for (std::size_t reason = 0; reason < kTlsHandshakeFailures.size(); ++reason) {
        handshake_errors.metric.push_back(
            scalar({{"reason", std::string(kTlsHandshakeFailures[reason])}},
                   static_cast<double>(summed.tls_handshake_errors()[reason]), false));
    }

    MetricFamily connections{"gateway_open_client_connections", "Open client connections",
                             MetricType::Gauge, {scalar({}, static_cast<double>(gauges.open_client_connections), true)}};
    MetricFamily pooled{"gateway_upstream_connections", "Open upstream connections, busy and idle",
                        MetricType::Gauge, {scalar({}, static_cast<double>(gauges.pooled_upstream_connections), true)}};
    MetricFamily loads{"gateway_config_loads_total", "Config loads that were applied, the first included",
                       MetricType::Counter, {scalar({}, static_cast<double>(gauges.config_loads), false)}};
    MetricFamily failures{"gateway_config_reload_failures_total",
                          "Config reloads refused because the new config failed its checks",
                          MetricType::Counter, {scalar({}, static_cast<double>(gauges.config_reload_failures), false)}};
    MetricFamily dropped_log_lines{
        "gateway_access_log_dropped_lines_total",
        "Access-log lines lost because the writer fell behind or the file could not be written",
        MetricType::Counter, {scalar({}, static_cast<double>(gauges.access_log_dropped_lines), false)}};

    for (auto* family : {&requests, &durations, &upstream_durations, &upstream_errors, &rejected,
                         &handshake_errors, &connections, &pooled, &loads, &failures, &dropped_log_lines}) {
        families.push_back(std::move(*family));
    }
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, families);
    return out.str();
}

}  // namespace gateway
