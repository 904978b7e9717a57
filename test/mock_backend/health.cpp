#include "health.hpp"

#include <string>

#include "response_util.hpp"
#include "target.hpp"

namespace mock_backend {

namespace {

constexpr std::string_view kHealthPath = "/health";

}  // namespace

bool is_health_target(std::string_view target) noexcept {
    return target_path(target) == kHealthPath;
}

Plan HealthEndpoint::answer(const Request& req) const {
    Plan plan;
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
        plan.response =
            error_message_response(http::status::method_not_allowed, "Method not allowed",
                                   std::string{kHealthPath} + " allows GET, HEAD, not " +
                                       std::string{to_std(req.method_string())});
        plan.response.set(http::field::allow, "GET, HEAD");
        finalize(plan.response, req);
        return plan;
    }
    const HealthSetting setting = this->setting();
    switch (setting.answer) {
        case HealthSetting::Answer::up:
            plan.response =
                make_response(http::status::ok, "application/json", R"({"status":"UP"})");
            break;
        case HealthSetting::Answer::down:
            plan.response =
                make_response(http::status::ok, "application/json", R"({"status":"DOWN"})");
            set_status(plan.response, setting.status);
            break;
        case HealthSetting::Answer::hang:
        case HealthSetting::Answer::close:
            // Never sent; a plan always carries a complete response all the same.
            plan.response = make_response(http::status::service_unavailable, {}, {});
            plan.delivery =
                setting.answer == HealthSetting::Answer::hang ? Delivery::hang : Delivery::close;
            break;
    }
    finalize(plan.response, req);
    return plan;
}

}  // namespace mock_backend
