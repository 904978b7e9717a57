// Stage "rate_limit": the route's token bucket for this request's key (429 when it is empty).
// After auth, so that requests without credentials spend no one's tokens; before the params and
// the body, so that a flood is refused at the cost of a head.
#include <chrono>

#include "pipeline/rate_limiter.hpp"
#include "pipeline/stages.hpp"

namespace gateway {

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
    if (limit.scope == RateLimit::Scope::global) {
        // Redis decides, and a stage cannot wait: the pipeline asks it once the head stages
        // have passed (RequestPipeline::serve), before any body byte is read.
        exchange.global_rate_key = key;
        exchange.global_rate_pending = true;
        return Ok{};
    }
    const auto now = std::chrono::steady_clock::now();
    const RateDecision decision =
        exchange.rate_view ? exchange.rate_limiter->decide(*exchange.rate_view, route.name, limit, key, now)
                           : exchange.rate_limiter->decide(route.name, limit, key, now);
    exchange.rate_verdict = decision.allowed ? RateVerdict::allowed : RateVerdict::denied;
    if (decision.allowed) return Ok{};
    return rate_limited_error(route, limit, decision);
}

}  // namespace gateway
