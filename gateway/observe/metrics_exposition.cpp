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

    MetricFamily rate_limited{"gateway_rate_limited_total",
                              "Requests refused with 429 by a route's rate limit, by route",
                              MetricType::Counter, {}};
    for (const auto& [route, count] : summed.rate_limited()) {
        rate_limited.metric.push_back(scalar({{"route", route}}, static_cast<double>(count), false));
    }
    MetricFamily rate_limit_keys{"gateway_rate_limit_keys",
                                 "Rate-limit buckets held per route (bounded by its max_keys)",
                                 MetricType::Gauge, {}};
    for (const auto& [route, count] : gauges.rate_limit_keys) {
        rate_limit_keys.metric.push_back(scalar({{"route", route}}, static_cast<double>(count), true));
    }
    MetricFamily rate_decisions{"gateway_rate_limit_decisions_total",
                                "Rate-limit decisions by route and outcome (allowed, denied, "
                                "fallback: a global limit Redis could not decide)",
                                MetricType::Counter, {}};
    MetricFamily fallbacks{"gateway_rate_limit_fallbacks_total",
                           "Global rate-limit decisions that fell back to on_redis_error, by "
                           "route and reason",
                           MetricType::Counter, {}};
    for (const auto& [route, series] : summed.rate_decisions()) {
        rate_decisions.metric.push_back(scalar({{"route", route}, {"outcome", "allowed"}},
                                               static_cast<double>(series.allowed), false));
        rate_decisions.metric.push_back(scalar({{"route", route}, {"outcome", "denied"}},
                                               static_cast<double>(series.denied), false));
        rate_decisions.metric.push_back(scalar({{"route", route}, {"outcome", "fallback"}},
                                               static_cast<double>(series.fallback_total()), false));
        for (std::size_t reason = 0; reason < kRateFallbackReasons.size(); ++reason) {
            if (series.fallbacks[reason] == 0) continue;
            fallbacks.metric.push_back(
                scalar({{"route", route}, {"reason", std::string(kRateFallbackReasons[reason])}},
                       static_cast<double>(series.fallbacks[reason]), false));
        }
    }
    MetricFamily redis_up{"gateway_rate_limit_redis_up",
                          "1 while the global rate limits' Redis answers, 0 while it does not "
                          "(its breaker open, or no answer yet)",
                          MetricType::Gauge, {}};
    if (gauges.redis_up) redis_up.metric.push_back(scalar({}, *gauges.redis_up ? 1.0 : 0.0, true));
    MetricFamily spans_exported{"gateway_tracing_spans_exported_total",
                                "Spans the OTLP collector accepted", MetricType::Counter,
                                {scalar({}, static_cast<double>(gauges.tracing_spans_exported), false)}};
    MetricFamily spans_dropped{"gateway_tracing_spans_dropped_total",
                               "Spans dropped: the export queue was full (max_queue_spans), or "
                               "the collector refused or never took their batch",
                               MetricType::Counter,
                               {scalar({}, static_cast<double>(gauges.tracing_spans_dropped), false)}};
    MetricFamily export_failures{"gateway_tracing_export_failures_total",
                                 "Batches of spans given up on (refused, or failed 5 times)",
                                 MetricType::Counter,
                                 {scalar({}, static_cast<double>(gauges.tracing_export_failures), false)}};
    MetricFamily endpoint_healthy{"gateway_upstream_endpoint_healthy",
                                  "1 while an upstream endpoint takes traffic (not ejected, not "
                                  "failing its health checks), 0 otherwise",
                                  MetricType::Gauge, {}};
    MetricFamily ejections{"gateway_upstream_ejections_total",
                           "Times outlier detection ejected an upstream endpoint", MetricType::Counter, {}};
    MetricFamily in_flight{"gateway_upstream_in_flight",
                           "Requests with an upstream now (those its max_in_flight counts)",
                           MetricType::Gauge, {}};
    MetricFamily overflow{"gateway_upstream_overflow_total",
                          "Requests refused with 503 by an upstream's max_in_flight, by reason "
                          "(max_pending: the queue was full; queue_timeout: no slot in time; "
                          "expected_wait: the wait would have been over half of queue_timeout_ms)",
                          MetricType::Counter, {}};
    MetricFamily budget{"gateway_retry_budget_exhausted_total",
                        "Retries not made because the upstream's retry budget was spent",
                        MetricType::Counter, {}};
    MetricFamily panics{"gateway_upstream_panic_total",
                        "Requests sent to an upstream none of whose endpoints was available",
                        MetricType::Counter, {}};
    for (const auto& sample : gauges.upstreams) {
        const std::string& name = sample.upstream;
        for (const auto& endpoint : sample.endpoints) {
            endpoint_healthy.metric.push_back(scalar({{"upstream", name}, {"endpoint", endpoint.name}},
                                                     endpoint.healthy ? 1 : 0, true));
            ejections.metric.push_back(scalar({{"upstream", name}, {"endpoint", endpoint.name}},
                                              static_cast<double>(endpoint.ejections), false));
        }
        in_flight.metric.push_back(scalar({{"upstream", name}}, static_cast<double>(sample.in_flight), true));
        overflow.metric.push_back(scalar({{"upstream", name}, {"reason", "max_pending"}},
                                         static_cast<double>(sample.overflow_queue_full), false));
        overflow.metric.push_back(scalar({{"upstream", name}, {"reason", "queue_timeout"}},
                                         static_cast<double>(sample.overflow_queue_timeout), false));
        overflow.metric.push_back(scalar({{"upstream", name}, {"reason", "expected_wait"}},
                                         static_cast<double>(sample.overflow_expected_wait), false));
        budget.metric.push_back(scalar({{"upstream", name}},
                                       static_cast<double>(sample.retry_budget_exhausted), false));
        panics.metric.push_back(scalar({{"upstream", name}}, static_cast<double>(sample.panics), false));
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
                         &handshake_errors, &connections, &pooled, &loads, &failures, &dropped_log_lines, &rate_limited, &rate_limit_keys, &rate_decisions, &fallbacks, &redis_up, &spans_exported, &spans_dropped, &export_failures, &endpoint_healthy,
                         &ejections, &in_flight, &overflow, &budget, &panics}) {
        families.push_back(std::move(*family));
    }
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, families);
    return out.str();
}

}  // namespace gateway
