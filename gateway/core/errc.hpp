#pragma once

#include <string_view>

namespace gateway {

/// Every failure the gateway can report. Each value has exactly one row in the catalogue
/// (errc.cpp): HTTP status, numeric code, status name and message. The catalogue is part of
/// the public contract (README, "Error catalogue"): values are added, never renumbered.
enum class Errc {
    malformed_request,        // HTTP framing the gateway refuses to interpret
    invalid_path_param,       // a typed path parameter did not parse or is out of range
    invalid_query_param,      // unknown, missing, repeated or mistyped query parameter
    malformed_json,           // request body is not a JSON document
    invalid_body,             // JSON body does not match the route's schema
    unexpected_body,          // a body was sent to a route that takes none
    unauthenticated,          // x-auth-roles missing or empty
    forbidden,                // none of the caller's roles is allowed on the route
    route_not_found,          // no route template matches the path
    method_not_allowed,       // the path matches, the method does not
    payload_too_large,        // body larger than the configured limit
    unsupported_media_type,   // body route called without application/json
    header_too_large,         // request header block over the configured limit
    uri_too_long,             // request line over 8 KiB
    overloaded,               // connection cap reached
    invalid_path,             // a path segment that could mean two things (dot segment, %2F)
    internal_error,           // a bug in the gateway; never expected
    upstream_unreachable,     // connect refused / no route to the upstream
    upstream_reset,           // the upstream closed or reset the connection mid-exchange
    upstream_bad_response,    // the upstream answered something that is not valid HTTP
    upstream_timeout,         // connect or response deadline passed
    upstream_error,           // the upstream answered non-2xx without an ErrorMessage body
    plain_http_on_tls_port,   // a plain HTTP request came to the HTTPS listener
    upstream_tls_failed,      // the TLS handshake with the upstream failed or it did not verify
    upstream_overloaded,      // the upstream's max_in_flight and its queue are full, or the wait timed out
    rate_limited,             // the route's rate limit for this key is spent
    rate_limit_unavailable,   // a global limit could not be decided (Redis) and says on_redis_error: deny
};

/// The catalogue row for one Errc.
struct ErrcInfo {
    int http_status;
    int code;
    std::string_view status;
    std::string_view message;
};

const ErrcInfo& info(Errc errc) noexcept;

/// Spring-style status names ("NOT_FOUND") for any HTTP status, used when the gateway relays
/// an upstream's status. Unknown statuses give their class name ("CLIENT_ERROR").
std::string_view status_name(int http_status) noexcept;

}  // namespace gateway
