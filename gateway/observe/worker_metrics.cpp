#include "observe/worker_metrics.hpp"

#include <algorithm>

namespace gateway {

void DurationHistogram::observe(std::chrono::nanoseconds elapsed) {
    const double seconds = std::chrono::duration<double>(elapsed).count();
    const auto bucket = std::lower_bound(kDurationBuckets.begin(), kDurationBuckets.end(), seconds);
    ++counts[static_cast<std::size_t>(bucket - kDurationBuckets.begin())];
    sum_seconds += seconds;
    ++count;
}

void DurationHistogram::add(const DurationHistogram& other) {
    for (std::size_t i = 0; i < counts.size(); ++i) counts[i] += other.counts[i];
    sum_seconds += other.sum_seconds;
    count += other.count;
}

void WorkerMetrics::count_request(std::string_view route, std::string_view method,
                                  unsigned status, std::chrono::nanoseconds elapsed) {
    if (!last_.series || route != last_.route || method != last_.method) {
        key_.assign(route);
        key_ += '\t';
        key_ += method;
        auto it = routes_.find(std::string_view(key_));
        if (it == routes_.end()) it = routes_.emplace(key_, RouteSeries{}).first;
        // Elements of an unordered_map stay where they are when it grows.
        last_.series = &it->second;
        last_.route.assign(route);
        last_.method.assign(method);
    }
    ++last_.series->by_status_class[std::min<unsigned>(status / 100, 5)];
    last_.series->duration.observe(elapsed);
}

void WorkerMetrics::count_rejection(Errc errc) {
    RejectReason reason = RejectReason::validation;
    switch (errc) {
        case Errc::route_not_found:
        case Errc::method_not_allowed: reason = RejectReason::routing; break;
        case Errc::unauthenticated:
        case Errc::forbidden: reason = RejectReason::auth; break;
        case Errc::malformed_request:
        case Errc::plain_http_on_tls_port: reason = RejectReason::framing; break;
        case Errc::payload_too_large:
        case Errc::header_too_large:
        case Errc::uri_too_long:
        case Errc::overloaded: reason = RejectReason::limits; break;
        case Errc::rate_limited:
        case Errc::rate_limit_unavailable: reason = RejectReason::limits; break;
        default: break;
    }
    ++rejections_[static_cast<std::size_t>(reason)];
}

void WorkerMetrics::count_upstream(std::string_view upstream, std::chrono::nanoseconds elapsed,
                                   const Errc* failure) {
    auto it = upstreams_.find(upstream);
    if (it == upstreams_.end()) it = upstreams_.emplace(std::string(upstream), UpstreamSeries{}).first;
    it->second.duration.observe(elapsed);
    if (!failure) return;
    std::size_t kind = 1;  // reset
    if (*failure == Errc::upstream_unreachable) kind = 0;
    if (*failure == Errc::upstream_timeout) kind = 2;
    if (*failure == Errc::upstream_bad_response) kind = 3;
    if (*failure == Errc::upstream_tls_failed) kind = 4;
    ++it->second.failures[kind];
}

void WorkerMetrics::count_rate_decision(std::string_view route, RateVerdict verdict,
                                        RateFallback reason) {
    if (verdict == RateVerdict::none) return;
    auto it = rate_decisions_.find(route);
    if (it == rate_decisions_.end()) it = rate_decisions_.emplace(std::string(route), RateLimitSeries{}).first;
    switch (verdict) {
        case RateVerdict::allowed: ++it->second.allowed; break;
        case RateVerdict::denied: ++it->second.denied; break;
        case RateVerdict::fallback: ++it->second.fallbacks[static_cast<std::size_t>(reason)]; break;
        case RateVerdict::none: break;
    }
}

void WorkerMetrics::count_rate_limited(std::string_view route) {
    auto it = rate_limited_.find(route);
    if (it == rate_limited_.end()) it = rate_limited_.emplace(std::string(route), 0).first;
    ++it->second;
}

void WorkerMetrics::add(const WorkerMetrics& other) {
    for (const auto& [route, count] : other.rate_limited_) rate_limited_[route] += count;
    for (const auto& [route, series] : other.rate_decisions_) {
        RateLimitSeries& mine = rate_decisions_[route];
        mine.allowed += series.allowed;
        mine.denied += series.denied;
        for (std::size_t i = 0; i < mine.fallbacks.size(); ++i) mine.fallbacks[i] += series.fallbacks[i];
    }
    for (const auto& [key, series] : other.routes_) {
        auto& mine = routes_[key];
        for (std::size_t i = 0; i < mine.by_status_class.size(); ++i) {
            mine.by_status_class[i] += series.by_status_class[i];
        }
        mine.duration.add(series.duration);
    }
    for (const auto& [name, series] : other.upstreams_) {
        auto& mine = upstreams_[name];
        mine.duration.add(series.duration);
        for (std::size_t i = 0; i < mine.failures.size(); ++i) mine.failures[i] += series.failures[i];
    }
    for (std::size_t i = 0; i < rejections_.size(); ++i) rejections_[i] += other.rejections_[i];
    for (std::size_t i = 0; i < tls_handshake_errors_.size(); ++i) {
        tls_handshake_errors_[i] += other.tls_handshake_errors_[i];
    }
}

}  // namespace gateway
