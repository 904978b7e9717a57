#include "mock_routes.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json_bodies.hpp"
#include "response_util.hpp"
#include "target.hpp"

namespace mock_backend {

namespace {

enum class Route {
    subscription_blocks,         // /v2/orgs/{org}/subscriptions/{sub}/blocks
    subscription_block,          // /v2/orgs/{org}/subscriptions/{sub}/blocks/{block}
    penalties,                   // /v2/orgs/{org}/penalties/{accountId | computedPenaltyId}
    subscription_penalties,      // /v2/orgs/{org}/penalties/{acc}/subscriptions/{sub}
    subscription_uuid_penalties  // /v2/orgs/{org}/penalties/{acc}/subscriptions/uuid/{uuid}
};

// Segment indexes shared by all routes: v2 / orgs / {org} / <resource> / {id} / ...
constexpr std::size_t kResource = 3;
constexpr std::size_t kFirstId = 4;

std::optional<Route> match(const std::vector<std::string_view>& s) {
    if (s.size() < 5 || s[0] != "v2" || s[1] != "orgs") return std::nullopt;
    for (const auto segment : s) {
        if (segment.empty()) return std::nullopt;  // "//" or a trailing '/' is not a route
    }
    if (s[kResource] == "subscriptions") {
        if (s.size() == 6 && s[5] == "blocks") return Route::subscription_blocks;
        if (s.size() == 7 && s[5] == "blocks") return Route::subscription_block;
    } else if (s[kResource] == "penalties") {
        if (s.size() == 5) return Route::penalties;
        if (s.size() == 7 && s[5] == "subscriptions") return Route::subscription_penalties;
        if (s.size() == 8 && s[5] == "subscriptions" && s[6] == "uuid") {
            return Route::subscription_uuid_penalties;
        }
    }
    return std::nullopt;
}

std::string_view allowed_methods(Route route) {
    switch (route) {
        case Route::subscription_block: return "PATCH";
        case Route::penalties: return "GET, HEAD, PUT, DELETE";
        default: return "GET, HEAD";
    }
}

/// Realistic penalty values; the caller fills in the ids that come from the request.
ComputedPenalty sample_penalty(std::int64_t id, std::string reason) {
    ComputedPenalty p;
    p.id = id;
    p.penalty_type = std::move(reason);
    p.amount = 120.5;
    p.currency = "EUR";
    p.start_date = "2017-09-15T22:00:00Z";
    p.end_date = "2018-09-15T22:00:00Z";
    p.description = "Permanencia";
    return p;
}

Response json_ok(std::string body) {
    return make_response(http::status::ok, "application/json", std::move(body));
}

Response penalties_response(Route route, const std::vector<std::string_view>& s,
                            std::string_view target) {
    const std::int64_t account_id = id_or_zero(s[kFirstId]);
    std::string reason = query_param(target, "reason").value_or("unsubscribe");
    std::vector<ComputedPenalty> penalties;
    if (route == Route::penalties) {
        // An account usually has more than one contracted line; two items make the array
        // shape visible to whoever reads the response.
        auto first = sample_penalty(1, reason);
        first.account_id = account_id;
        first.subscription_id = 214748364;
        auto second = sample_penalty(2, std::move(reason));
        second.account_id = account_id;
        second.subscription_id = 214748365;
        second.amount = 45.0;
        second.description = "Permanencia terminal";
        penalties.push_back(std::move(first));
        penalties.push_back(std::move(second));
    } else {
        auto p = sample_penalty(1, std::move(reason));
        p.account_id = account_id;
        if (route == Route::subscription_penalties) {
            p.subscription_id = id_or_zero(s[6]);
        } else {
            p.subscription_id = 214748364;
            p.subscription_uuid = std::string{s[7]};
        }
        penalties.push_back(std::move(p));
    }
    return json_ok(computed_penalties_json(penalties));
}

/// The route's answer, or nullopt when the route does not take `method`.
std::optional<Response> route_response(Route route, http::verb method,
                                       const std::vector<std::string_view>& s,
                                       std::string_view target) {
    const bool get = method == http::verb::get || method == http::verb::head;
    switch (route) {
        case Route::subscription_blocks:
            if (get) return json_ok(subscription_blocks_json(id_or_zero(s[kFirstId])));
            break;
        case Route::subscription_block:
            if (method == http::verb::patch) return make_response(http::status::created, {}, {});
            break;
        case Route::penalties:
            if (get) return penalties_response(route, s, target);
            if (method == http::verb::put || method == http::verb::delete_) {
                return make_response(http::status::ok, {}, {});
            }
            break;
        case Route::subscription_penalties:
        case Route::subscription_uuid_penalties:
            if (get) return penalties_response(route, s, target);
            break;
    }
    return std::nullopt;
}

}  // namespace

Response answer_route(const Request& req) {
    const std::string_view target = to_std(req.target());
    const std::string_view method = to_std(req.method_string());
    const auto segments = split_path(target_path(target));
    const auto route = match(segments);
    if (!route) {
        return error_message_response(
            http::status::not_found, "Resource not found",
            "mock-backend has no route for " + std::string{method} + " " + std::string{target});
    }
    if (auto res = route_response(*route, req.method(), segments, target)) return std::move(*res);

    const std::string_view allow = allowed_methods(*route);
    Response res = error_message_response(http::status::method_not_allowed, "Method not allowed",
                                          "mock-backend route " + std::string{target_path(target)} +
                                              " allows " + std::string{allow} + ", not " +
                                              std::string{method});
    res.set(http::field::allow, beast::string_view{allow.data(), allow.size()});
    return res;
}

}  // namespace mock_backend
