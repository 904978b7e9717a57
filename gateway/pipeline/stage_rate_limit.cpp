// Stage "rate_limit": the route's token bucket for this request's key (429 when it is empty).
// After auth, so that requests without credentials spend no one's tokens; before the params and
// the body, so that a flood is refused at the cost of a head.
#include <chrono>
#include <cmath>

#include "pipeline/rate_limiter.hpp"
#include "pipeline/stages.hpp"

namespace gateway {
namespace {

std::string rate_text(double requests_per_second) {
    if (requests_per_second == std::floor(requests_per_second)) {
        return std::to_string(static_cast<long long>(requests_per_second));
    }
    std::string text = std::to_string(requests_per_second);
    text.erase(text.find_last_not_of('0') + 1);
    return text;
}

/// Whose bucket it was, without echoing the key's value (a header may carry a secret).
std::string per_key(const RateLimit& limit) {
    switch (limit.key) {
        case RateLimit::Key::client_ip: return " per client address";
        case RateLimit::Key::header: return " per value of header " + limit.header_name;
        case RateLimit::Key::route: break;
    }
    return "";
}

}  // namespace

Status rate_limit_stage(Exchange& exchange) {
    const RouteConfig& route = *exchange.route;
    if (!route.rate_limit || !exchange.rate_limiter) return Ok{};
    const RateLimit& limit = *route.rate_limit;
    std::string_view key;
    if (limit.key == RateLimit::Key::client_ip) {
        key = exchange.client_address;
    } else if (limit.key == RateLimit::Key::header && exchange.message) {
        // Requests without the header share one bucket: leaving it out buys no extra tokens.
        if (const auto it = exchange.message->find(limit.header_name); it != exchange.message->end()) {
            key = it->value();
        }
    }
    const auto now = std::chrono::steady_clock::now();
    const RateDecision decision =
        exchange.rate_view ? exchange.rate_limiter->decide(*exchange.rate_view, route.name, limit, key, now)
                           : exchange.rate_limiter->decide(route.name, limit, key, now);
    if (decision.allowed) return Ok{};
    const auto retry_after = retry_after_seconds(decision);
    Error error{Errc::rate_limited,
                "route " + route.name + " allows " + rate_text(limit.requests_per_second) +
                    " request(s) a second" + per_key(limit) + " (bursts of up to " +
                    std::to_string(limit.burst) + "); retry after " +
                    std::to_string(retry_after.count()) + " s"};
    error.headers.emplace_back("Retry-After", std::to_string(retry_after.count()));
    error.headers.emplace_back("RateLimit-Policy", rate_limit_policy_header(route.name, limit));
    error.headers.emplace_back("RateLimit", rate_limit_header(route.name, decision));
    return error;
}

}  // namespace gateway
