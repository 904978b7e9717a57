#include "control.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "response_util.hpp"
#include "target.hpp"

namespace mock_backend {

namespace {

constexpr std::string_view kControlPrefix = "/__mock/";

/// An endpoint's answer, or nullopt when it does not take the request's method.
using Handler = std::optional<Response> (*)(const Request&, MockState&);

struct Endpoint {
    std::string_view path;
    std::string_view allow;
    Handler handle;
};

bool is_get(const Request& req) {
    return req.method() == http::verb::get || req.method() == http::verb::head;
}

Response json_ok(std::string body) {
    return make_response(http::status::ok, "application/json", std::move(body));
}

Response counter_response(std::string_view name, std::uint64_t value) {
    return json_ok("{\"" + std::string{name} + "\": " + std::to_string(value) + "}");
}

std::optional<Response> requests(const Request& req, MockState& state) {
    if (is_get(req)) return counter_response("requests", state.requests.load());
    if (req.method() != http::verb::delete_) return std::nullopt;
    state.requests.store(0);
    return counter_response("requests", 0);
}

std::optional<Response> health_probes(const Request& req, MockState& state) {
    if (is_get(req)) return counter_response("probes", state.health.probes());
    if (req.method() != http::verb::delete_) return std::nullopt;
    state.health.reset_probes();
    return counter_response("probes", 0);
}

std::optional<Response> health(const Request& req, MockState& state) {
    if (req.method() == http::verb::put) {
        const auto setting = parse_health_setting(req.body());
        if (!setting) {
            return error_message_response(http::status::bad_request, "Invalid health setting",
                                          health_setting_help());
        }
        state.health.set(*setting);
    } else if (req.method() == http::verb::delete_) {
        state.health.set(HealthSetting{});
    } else if (!is_get(req)) {
        return std::nullopt;
    }
    return json_ok(health_setting_json(state.health.setting()));
}

std::optional<Response> fault(const Request& req, MockState& state) {
    if (req.method() == http::verb::put) {
        auto setting = parse_fault_setting(req.body());
        if (!setting) {
            return error_message_response(
                http::status::bad_request, "Invalid fault setting",
                R"(PUT /__mock/fault takes {"mode": "MODE"}; known modes: )" +
                    std::string{fault_modes_help()} + "; DELETE /__mock/fault clears it");
        }
        state.fault.set(std::move(setting));
    } else if (req.method() == http::verb::delete_) {
        state.fault.set(std::nullopt);
    } else if (!is_get(req)) {
        return std::nullopt;
    }
    return json_ok(fault_setting_json(state.fault.setting()));
}

std::optional<Response> concurrency(const Request& req, MockState& state) {
    if (req.method() == http::verb::delete_) {
        state.capacity.reset_max_seen();
    } else if (!is_get(req)) {
        return std::nullopt;
    }
    const auto counts = state.capacity.counts();
    const auto& config = state.capacity.config();
    return json_ok("{\"in_service\": " + std::to_string(counts.in_service) +
                   ", \"waiting\": " + std::to_string(counts.waiting) +
                   ", \"max_seen\": " + std::to_string(counts.max_seen) +
                   ", \"max_concurrency\": " + std::to_string(config.max_concurrency) +
                   ", \"service_time_ms\": " + std::to_string(config.service_time.count()) + "}");
}

constexpr std::array kEndpoints{
    Endpoint{"/__mock/requests", "GET, HEAD, DELETE", requests},
    Endpoint{"/__mock/health-probes", "GET, HEAD, DELETE", health_probes},
    Endpoint{"/__mock/health", "GET, HEAD, PUT, DELETE", health},
    Endpoint{"/__mock/fault", "GET, HEAD, PUT, DELETE", fault},
    Endpoint{"/__mock/concurrency", "GET, HEAD, DELETE", concurrency},
};

Response unknown_endpoint(std::string_view path) {
    std::string known;
    for (const auto& endpoint : kEndpoints) {
        if (!known.empty()) known += ", ";
        known += std::string{endpoint.path} + " (" + std::string{endpoint.allow} + ")";
    }
    return error_message_response(
        http::status::not_found, "Resource not found",
        "mock-backend has no control endpoint " + std::string{path} + "; known: " + known);
}

Response method_not_allowed(const Request& req, const Endpoint& endpoint) {
    Response res = error_message_response(http::status::method_not_allowed, "Method not allowed",
                                          std::string{endpoint.path} + " allows " +
                                              std::string{endpoint.allow} + ", not " +
                                              std::string{to_std(req.method_string())});
    res.set(http::field::allow, beast::string_view{endpoint.allow.data(), endpoint.allow.size()});
    return res;
}

}  // namespace

bool is_control_target(std::string_view target) noexcept {
    return target.substr(0, kControlPrefix.size()) == kControlPrefix;
}

Plan control_plan(const Request& req, MockState& state) {
    const std::string_view path = target_path(to_std(req.target()));
    Plan plan;
    const Endpoint* endpoint = nullptr;
    for (const auto& candidate : kEndpoints) {
        if (candidate.path == path) endpoint = &candidate;
    }
    if (endpoint == nullptr) {
        plan.response = unknown_endpoint(path);
    } else if (auto res = endpoint->handle(req, state)) {
        plan.response = std::move(*res);
    } else {
        plan.response = method_not_allowed(req, *endpoint);
    }
    finalize(plan.response, req);
    return plan;
}

}  // namespace mock_backend
