#include "faults.hpp"

#include <array>
#include <charconv>
#include <utility>

#include "json_bodies.hpp"
#include "response_util.hpp"

namespace mock_backend {

namespace {

struct NamedMode {
    std::string_view name;
    FaultMode mode;
};

constexpr std::array kNamedModes{
    NamedMode{"html-500", FaultMode::html_500},
    NamedMode{"text-404", FaultMode::text_404},
    NamedMode{"json-409", FaultMode::json_409},
    NamedMode{"error-message-404", FaultMode::error_message_404},
    NamedMode{"empty-502", FaultMode::empty_502},
    NamedMode{"empty-503", FaultMode::empty_503},
    NamedMode{"big", FaultMode::big},
    NamedMode{"big-cut", FaultMode::big_cut},
    NamedMode{"big-chunked", FaultMode::big_chunked},
    NamedMode{"hang", FaultMode::hang},
    NamedMode{"close", FaultMode::close},
    NamedMode{"half-body", FaultMode::half_body},
    NamedMode{"garbage", FaultMode::garbage},
    NamedMode{"chunked", FaultMode::chunked},
    NamedMode{"slow", FaultMode::slow},
    NamedMode{"extra-response", FaultMode::extra_response},
    NamedMode{"extra-response-now", FaultMode::extra_response_now},
};

constexpr std::string_view kDelayPrefix = "delay-";

}  // namespace

std::optional<Fault> parse_fault(std::string_view value) {
    for (const auto& named : kNamedModes) {
        if (value == named.name) return Fault{named.mode};
    }
    if (value.starts_with(kDelayPrefix)) {
        const std::string_view digits = value.substr(kDelayPrefix.size());
        long long ms = 0;
        const auto* end = digits.data() + digits.size();
        const auto [ptr, ec] = std::from_chars(digits.data(), end, ms);
        if (ec == std::errc{} && ptr == end && ms >= 0 && ms <= kMaxFaultDelay.count()) {
            return Fault{FaultMode::delay, std::chrono::milliseconds{ms}};
        }
    }
    return std::nullopt;
}

std::string_view fault_modes_help() noexcept {
    return "html-500, text-404, json-409, error-message-404, empty-502, empty-503, hang, close, "
           "half-body, garbage, chunked, slow, big, big-cut, big-chunked, extra-response, extra-response-now, "
           "delay-MS (MS from 0 to 600000)";
}

std::optional<Response> canned_fault_response(FaultMode mode) {
    switch (mode) {
        case FaultMode::html_500:
            return make_response(http::status::internal_server_error, "text/html",
                                 "<html><body><h1>500 Internal Server Error</h1></body></html>");
        case FaultMode::text_404:
            return make_response(http::status::not_found, "text/plain", "Not Found");
        case FaultMode::json_409:
            return make_response(http::status::conflict, "application/json",
                                 R"({"error":"conflict","reason":"already blocked"})");
        case FaultMode::error_message_404:
            return make_response(
                http::status::not_found, "application/json",
                R"({"code":404,"status":"NOT_FOUND","message":"Subscription not found",)"
                R"("detailMsg":"subscription 214748364 does not exist"})");
        case FaultMode::empty_502: return make_response(http::status::bad_gateway, {}, {});
        case FaultMode::empty_503: return make_response(http::status::service_unavailable, {}, {});
        case FaultMode::big:
        case FaultMode::big_cut:
        case FaultMode::big_chunked:
            return make_response(http::status::ok, "application/json", big_penalties_json());
        case FaultMode::hang:
        case FaultMode::close:
        case FaultMode::half_body:
        case FaultMode::garbage:
        case FaultMode::chunked:
        case FaultMode::slow:
        case FaultMode::extra_response:
        case FaultMode::extra_response_now:
        case FaultMode::delay: return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace mock_backend
