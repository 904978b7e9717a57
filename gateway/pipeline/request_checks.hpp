#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "routing/route_table.hpp"
#include "core/result.hpp"

namespace gateway {

/// What the checks need to know of a request head, taken from the parsed HTTP message by the
/// server layer so that this half of the pipeline stays free of Asio and Beast.
struct RequestHead {
    std::string_view method;
    std::string_view target;  // origin-form: path and optional query
    std::optional<std::string_view> auth_roles;    // x-auth-roles, list lines joined with ','
    std::optional<std::string_view> content_type;
    /// Declared body size; nothing when chunked (the size is only known once read).
    std::optional<std::size_t> content_length;
    bool chunked = false;
};

/// A request whose head passed every check: the route it matched and the path to send on.
struct CheckedHead {
    const RouteConfig* route = nullptr;
    std::string upstream_target;  // path (rewritten or as received) + '?' + query as received
    /// The most body bytes to read for this route (0: the route takes none).
    std::size_t body_limit = 0;
};

/// The checks the stages (stages.hpp) are made of, each a pure function of a route and what
/// the request gave.

/// Auth alone: the comma-separated roles against the route's allowed roles.
Status check_roles(const RouteConfig& route, const std::optional<std::string_view>& roles_header);

/// The typed path parameters: the raw (percent-encoded) values, in path order.
Status check_path_params(const RouteConfig& route, const PathValues& raw_values);

/// Query alone, for a query string without its '?'.
Status check_query(const RouteConfig& route, std::string_view query);

/// The body, once read: JSON well-formedness and the route's schema.
Status check_body(const RouteConfig& route, std::string_view body);

}  // namespace gateway
