#include "control.hpp"

#include <atomic>
#include <cstdint>
#include <string>

#include "response_util.hpp"
#include "target.hpp"

namespace mock_backend {

namespace {

constexpr std::string_view kControlPrefix = "/__mock/";
constexpr std::string_view kRequestsPath = "/__mock/requests";

std::atomic<std::uint64_t> g_requests{0};

Response counter_response(std::uint64_t value) {
    return make_response(http::status::ok, "application/json",
                         "{\"requests\": " + std::to_string(value) + "}");
}

}  // namespace

bool is_control_target(std::string_view target) noexcept {
    return target.substr(0, kControlPrefix.size()) == kControlPrefix;
}

void count_request() noexcept { g_requests.fetch_add(1, std::memory_order_relaxed); }

Plan control_plan(const Request& req) {
    const std::string_view path = target_path(to_std(req.target()));
    Plan plan;
    if (path != kRequestsPath) {
        plan.response = error_message_response(
            http::status::not_found, "Resource not found",
            "mock-backend has no control endpoint " + std::string{path} +
                "; known: GET or DELETE " + std::string{kRequestsPath});
    } else if (req.method() == http::verb::get || req.method() == http::verb::head) {
        plan.response = counter_response(g_requests.load(std::memory_order_relaxed));
    } else if (req.method() == http::verb::delete_) {
        g_requests.store(0, std::memory_order_relaxed);
        plan.response = counter_response(0);
    } else {
        plan.response = error_message_response(
            http::status::method_not_allowed, "Method not allowed",
            std::string{kRequestsPath} + " allows GET, HEAD, DELETE, not " +
                std::string{to_std(req.method_string())});
        plan.response.set(http::field::allow, "GET, HEAD, DELETE");
    }
    finalize(plan.response, req);
    return plan;
}

}  // namespace mock_backend
