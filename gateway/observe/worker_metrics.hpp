#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/errc.hpp"
#include "observe/rate_limit_outcome.hpp"

namespace gateway {

/// Upper bounds (seconds) of the duration histograms' buckets.
inline constexpr std::array<double, 14> kDurationBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

struct DurationHistogram {
    std::array<std::uint64_t, kDurationBuckets.size() + 1> counts{};  // last: +Inf
    double sum_seconds = 0;
    std::uint64_t count = 0;

    void observe(std::chrono::nanoseconds elapsed);
    void add(const DurationHistogram& other);
};

/// Why the gateway refused a request itself (the `reason` label).
enum class RejectReason { routing, auth, validation, framing, limits };
inline constexpr std::array<std::string_view, 5> kRejectReasons = {"routing", "auth", "validation",
                                                                   "framing", "limits"};
/// How an upstream exchange failed (the `kind` label).
inline constexpr std::array<std::string_view, 5> kUpstreamFailures = {
    "refused", "reset", "timeout", "bad_response", "tls"};
/// Why a client's TLS handshake failed (the `reason` label of
/// gateway_tls_handshake_errors_total): a fixed set, so a scanner cannot make up series.
enum class TlsHandshakeFailure {
    protocol_version,        // it offered only versions we refuse (SSL 3, TLS 1.0, 1.1)
    no_shared_cipher,        // nothing in common with our cipher list
    no_client_certificate,   // client_ca is set and it sent none
    bad_client_certificate,  // it sent one that does not verify
    certificate_refused,     // it did not trust the gateway's certificate (its alert says so)
    plain_http,              // it spoke plain HTTP to the TLS port
    timeout,                 // the handshake did not finish within header_timeout
    closed,                  // it closed or reset the connection during the handshake
    other,                   // any other protocol error
};
inline constexpr std::array<std::string_view, 9> kTlsHandshakeFailures = {
    "protocol_version", "no_shared_cipher",   "no_client_certificate", "bad_client_certificate",
    "certificate_refused", "plain_http", "timeout", "closed", "other"};

/// The counters of one worker thread. Only that thread writes and reads them (plain integers,
/// no atomics, no locks on the request path); a scrape asks each worker for a copy and sums.
class WorkerMetrics {
public:
    struct RouteSeries {
        std::array<std::uint64_t, 6> by_status_class{};  // index: status / 100
        DurationHistogram duration;
    };
    struct UpstreamSeries {
        DurationHistogram duration;
        std::array<std::uint64_t, kUpstreamFailures.size()> failures{};
    };
    /// One route's rate-limit decisions.
    struct RateLimitSeries {
        std::uint64_t allowed = 0;
        std::uint64_t denied = 0;
        std::array<std::uint64_t, kRateFallbackReasons.size()> fallbacks{};
        std::uint64_t fallback_total() const noexcept {
            std::uint64_t sum = 0;
            for (const auto count : fallbacks) sum += count;
            return sum;
        }
    };
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    template <typename T>
    using ByName = std::unordered_map<std::string, T, StringHash, std::equal_to<>>;

    /// One answered request. `route` is the matched route's name ("none" when nothing
    /// matched), `method` its method.
    void count_request(std::string_view route, std::string_view method, unsigned status,
                       std::chrono::nanoseconds elapsed);
    /// A request the gateway refused itself, by the Errc it refused it with.
    void count_rejection(Errc errc);
    /// One exchange with an upstream; `failure` is its Errc when it failed.
    void count_upstream(std::string_view upstream, std::chrono::nanoseconds elapsed,
                        const Errc* failure);

    /// A request refused by its route's rate limit (also counted as a rejection).
    void count_rate_limited(std::string_view route);
    /// What a route's rate limit decided for a request (`reason` only for fallbacks).
    void count_rate_decision(std::string_view route, RateVerdict verdict, RateFallback reason);

    void count_tls_handshake_error(TlsHandshakeFailure reason) {
        ++tls_handshake_errors_[static_cast<std::size_t>(reason)];
    }

    /// Series keyed "route\tmethod".
    const ByName<RouteSeries>& routes() const noexcept { return routes_; }
    const ByName<UpstreamSeries>& upstreams() const noexcept { return upstreams_; }
    const std::array<std::uint64_t, kRejectReasons.size()>& rejections() const noexcept {
        return rejections_;
    }
    const ByName<std::uint64_t>& rate_limited() const noexcept { return rate_limited_; }
    const ByName<RateLimitSeries>& rate_decisions() const noexcept { return rate_decisions_; }
    const std::array<std::uint64_t, kTlsHandshakeFailures.size()>& tls_handshake_errors() const noexcept {
        return tls_handshake_errors_;
    }

    /// Adds another worker's counters to these (for the scrape's sum).
    void add(const WorkerMetrics& other);

private:
    ByName<RouteSeries> routes_;
    ByName<UpstreamSeries> upstreams_;
    ByName<std::uint64_t> rate_limited_;
    ByName<RateLimitSeries> rate_decisions_;
    std::array<std::uint64_t, kRejectReasons.size()> rejections_{};
    std::array<std::uint64_t, kTlsHandshakeFailures.size()> tls_handshake_errors_{};
    std::string key_;  // reused for route keys: no allocation per request once warm

    /// The series the last request was counted in. A run of requests to one route (what a
    /// sidecar mostly sees) then skips building the key and hashing it (callgrind: about 300
    /// instructions a request). Compared by content, never by address: a reload may put another
    /// route's name where this one's was. Not copied: it points into this object's map.
    struct LastSeries {
        LastSeries() = default;
        LastSeries(const LastSeries&) {}
        LastSeries& operator=(const LastSeries&) {
            series = nullptr;
            return *this;
        }
        std::string route;
        std::string method;
        RouteSeries* series = nullptr;
    };
    LastSeries last_;
};

}  // namespace gateway
