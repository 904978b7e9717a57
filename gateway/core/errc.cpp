#include "core/errc.hpp"

#include <array>

namespace gateway {
namespace {

// Codes are the HTTP status times 100 plus a running number, so the first three digits
// always tell the status a client saw. upstream_error's code is computed from the upstream's
// status (see error_message_renderer), its row only supplies the message.
constexpr std::array kCatalogue = {
    ErrcInfo{400, 40000, "BAD_REQUEST", "Malformed HTTP request"},
    ErrcInfo{400, 40001, "BAD_REQUEST", "Invalid path parameter"},
    ErrcInfo{400, 40002, "BAD_REQUEST", "Invalid query parameter"},
    ErrcInfo{400, 40003, "BAD_REQUEST", "Request body is not valid JSON"},
    ErrcInfo{400, 40004, "BAD_REQUEST", "Request body does not match the schema"},
    ErrcInfo{400, 40005, "BAD_REQUEST", "This route takes no request body"},
    ErrcInfo{401, 40101, "UNAUTHORIZED", "Missing credentials"},
    ErrcInfo{403, 40301, "FORBIDDEN", "Role not allowed"},
    ErrcInfo{404, 40401, "NOT_FOUND", "No route for this path"},
    ErrcInfo{405, 40501, "METHOD_NOT_ALLOWED", "Method not allowed on this path"},
    ErrcInfo{413, 41301, "PAYLOAD_TOO_LARGE", "Request body too large"},
    ErrcInfo{415, 41501, "UNSUPPORTED_MEDIA_TYPE", "Request body must be application/json"},
    ErrcInfo{431, 43101, "REQUEST_HEADER_FIELDS_TOO_LARGE", "Request header block too large"},
    ErrcInfo{414, 41401, "URI_TOO_LONG", "Request line too long"},
    ErrcInfo{503, 50301, "SERVICE_UNAVAILABLE", "Too many connections"},
    ErrcInfo{400, 40006, "BAD_REQUEST", "Invalid request path"},
    ErrcInfo{500, 50001, "INTERNAL_SERVER_ERROR", "Internal gateway error"},
    ErrcInfo{502, 50201, "BAD_GATEWAY", "Upstream unreachable"},
    ErrcInfo{502, 50202, "BAD_GATEWAY", "Upstream closed the connection"},
    ErrcInfo{502, 50203, "BAD_GATEWAY", "Upstream sent an invalid response"},
    ErrcInfo{504, 50401, "GATEWAY_TIMEOUT", "Upstream timed out"},
    ErrcInfo{502, 50290, "BAD_GATEWAY", "Upstream error"},
    ErrcInfo{400, 40007, "BAD_REQUEST", "Plain HTTP request sent to the HTTPS port"},
    ErrcInfo{502, 50204, "BAD_GATEWAY", "Upstream TLS handshake failed"},
    ErrcInfo{503, 50302, "SERVICE_UNAVAILABLE", "Upstream overloaded"},
    ErrcInfo{429, 42901, "TOO_MANY_REQUESTS", "Too many requests"},
    ErrcInfo{503, 50303, "SERVICE_UNAVAILABLE", "Rate limit unavailable"},
};

static_assert(kCatalogue.size() == static_cast<std::size_t>(Errc::rate_limit_unavailable) + 1,
              "every Errc needs exactly one catalogue row");

}  // namespace

const ErrcInfo& info(Errc errc) noexcept { return kCatalogue[static_cast<std::size_t>(errc)]; }

std::string_view status_name(int http_status) noexcept {
    switch (http_status) {
        case 400: return "BAD_REQUEST";
        case 401: return "UNAUTHORIZED";
        case 402: return "PAYMENT_REQUIRED";
        case 403: return "FORBIDDEN";
        case 404: return "NOT_FOUND";
        case 405: return "METHOD_NOT_ALLOWED";
        case 406: return "NOT_ACCEPTABLE";
        case 408: return "REQUEST_TIMEOUT";
        case 409: return "CONFLICT";
        case 410: return "GONE";
        case 411: return "LENGTH_REQUIRED";
        case 412: return "PRECONDITION_FAILED";
        case 413: return "PAYLOAD_TOO_LARGE";
        case 414: return "URI_TOO_LONG";
        case 415: return "UNSUPPORTED_MEDIA_TYPE";
        case 422: return "UNPROCESSABLE_ENTITY";
        case 429: return "TOO_MANY_REQUESTS";
        case 431: return "REQUEST_HEADER_FIELDS_TOO_LARGE";
        case 500: return "INTERNAL_SERVER_ERROR";
        case 501: return "NOT_IMPLEMENTED";
        case 502: return "BAD_GATEWAY";
        case 503: return "SERVICE_UNAVAILABLE";
        case 504: return "GATEWAY_TIMEOUT";
        default: break;
    }
    if (http_status >= 500) return "SERVER_ERROR";
    if (http_status >= 400) return "CLIENT_ERROR";
    if (http_status >= 300) return "REDIRECTION";
    return "UNKNOWN";
}

}  // namespace gateway
