#include "test_hooks.hpp"

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "echo.hpp"
#include "faults.hpp"
#include "mock_routes.hpp"
#include "response_util.hpp"

namespace mock_backend {

namespace {

std::optional<std::string_view> header(const Request& req, std::string_view name) {
    const auto it = req.find(beast::string_view{name.data(), name.size()});
    if (it == req.end()) return std::nullopt;
    return to_std(it->value());
}

std::optional<unsigned> parse_status(std::string_view value) {
    unsigned code = 0;
    const auto* end = value.data() + value.size();
    const auto [ptr, ec] = std::from_chars(value.data(), end, code);
    if (ec != std::errc{} || ptr != end || code < 100 || code > 999) return std::nullopt;
    return code;
}

Plan bad_hook(const Request& req, std::string_view message, std::string detail) {
    Plan plan{error_message_response(http::status::bad_request, message, detail)};
    finalize(plan.response, req);
    return plan;
}

Delivery delivery_for(FaultMode mode) {
    switch (mode) {
        case FaultMode::hang: return Delivery::hang;
        case FaultMode::close: return Delivery::close;
        case FaultMode::half_body: return Delivery::half_body;
        case FaultMode::big_cut: return Delivery::cut;
        case FaultMode::garbage: return Delivery::garbage;
        case FaultMode::chunked:
        case FaultMode::big_chunked: return Delivery::chunked;
        case FaultMode::slow: return Delivery::slow;
        case FaultMode::extra_response: return Delivery::extra_late;
        case FaultMode::extra_response_now: return Delivery::extra_now;
        default: return Delivery::normal;
    }
}

}  // namespace

Plan plan_request(const Request& req, const std::optional<Fault>& standing_fault) {
    // The request's own header wins, so a test can still probe one request differently while
    // the whole backend is faulty.
    std::optional<Fault> fault = standing_fault;
    if (const auto value = header(req, "x-mock-fault")) {
        fault = parse_fault(*value);
        if (!fault) {
            return bad_hook(req, "Unknown x-mock-fault mode",
                            "unknown x-mock-fault '" + std::string{*value} +
                                "'; known modes: " + std::string{fault_modes_help()});
        }
    }

    Plan plan;
    if (auto canned = fault ? canned_fault_response(fault->mode) : std::nullopt) {
        // A canned fault stands for a different backend answer altogether, so the echo and
        // status hooks, which modify the documented answer, do not apply to it.
        plan.response = std::move(*canned);
    } else {
        const auto echo = header(req, "x-mock-echo");
        if (echo && (*echo == "1" || *echo == "true")) {
            plan.response = make_response(http::status::ok, "application/json", echo_json(req));
        } else {
            plan.response = answer_route(req);
        }
        if (const auto value = header(req, "x-mock-status")) {
            const auto code = parse_status(*value);
            if (!code) {
                return bad_hook(req, "Invalid x-mock-status",
                                "x-mock-status must be a status from 100 to 999, got '" +
                                    std::string{*value} + "'");
            }
            set_status(plan.response, *code);
        }
    }
    if (fault) {
        plan.delivery = delivery_for(fault->mode);
        plan.delay = fault->delay;
    }
    finalize(plan.response, req);
    return plan;
}

}  // namespace mock_backend
