#include "pipeline/request_checks.hpp"

#include <algorithm>

#include "core/text.hpp"
#include "pipeline/body_validator.hpp"
#include "routing/canonical_path.hpp"
#include "routing/percent_decoding.hpp"
#include "routing/query_string.hpp"

namespace gateway {
namespace {

// The mistakes the API docs' own curl examples make, named so a smoke tester sees the fix.
std::string hint_for(std::string_view value) {
    if (value.find('?') != std::string_view::npos) {
        return " (a second '?' does not start new parameters: separate them with '&')";
    }
    if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"')) {
        return " (drop the quotes around the value)";
    }
    return {};
}

Status check_path_params(const RouteConfig& route, const PathValues& raw_values) {
    for (std::size_t i = 0; i < route.path_params.size(); ++i) {
        const NamedParam& param = route.path_params[i];
        const std::string_view raw = raw_values[i];
        // canonicalize_path already refused what cannot be decoded or could mean two things;
        // most values have nothing to decode.
        std::optional<std::string> decoded;
        if (raw.find('%') != std::string_view::npos) {
            auto result = percent_decode(raw, false);
            if (!result) return Error{Errc::internal_error, "path " + param.name + ": not canonical"};
            decoded = std::move(*result);
        }
        if (auto problem = param.type.check(decoded ? std::string_view(*decoded) : raw)) {
            return Error{Errc::invalid_path_param, "path " + param.name + ": " + *problem};
        }
    }
    return Ok{};
}

std::string_view first_token(std::string_view content_type) {
    return trim(content_type.substr(0, content_type.find(';')));
}

}  // namespace

Status check_roles(const RouteConfig& route, const std::optional<std::string_view>& roles_header) {
    std::string_view roles = roles_header.value_or(std::string_view());
    bool any_role = false;
    while (true) {
        const std::size_t comma = roles.find(',');
        const std::string_view role = trim(roles.substr(0, comma));
        if (!role.empty()) {
            any_role = true;
            if (std::find(route.roles.begin(), route.roles.end(), role) != route.roles.end()) {
                return Ok{};
            }
        }
        if (comma == std::string_view::npos) break;
        roles.remove_prefix(comma + 1);
    }
    if (!any_role) {
        return Error{Errc::unauthenticated,
                     roles_header ? "header x-auth-roles is empty; this route needs one of: " +
                                        join(route.roles)
                                  : "header x-auth-roles is missing; this route needs one of: " +
                                        join(route.roles)};
    }
    return Error{Errc::forbidden, "x-auth-roles " + quoted_excerpt(*roles_header, 128) +
                                      " has none of the roles this route accepts: " +
                                      join(route.roles)};
}

Status check_query(const RouteConfig& route, std::string_view query) {
    std::string bad_pair;
    const auto params = parse_query(query, &bad_pair);
    if (!params) {
        return Error{Errc::invalid_query_param,
                     "query: invalid percent-encoding in " + quoted_excerpt(bad_pair)};
    }
    for (const auto& given : *params) {
        const bool known = std::any_of(route.query_params.begin(), route.query_params.end(),
                                       [&](const auto& p) { return p.name == given.name; });
        if (!known) {
            std::vector<std::string_view> names;
            for (const auto& p : route.query_params) names.push_back(p.name);
            const std::string accepted = join(names);
            return Error{Errc::invalid_query_param,
                         "query " + quoted_excerpt(given.name) + ": unknown parameter" +
                             (accepted.empty() ? " (this route takes no query parameters)"
                                               : " (this route accepts: " + accepted + ")")};
        }
    }
    for (const auto& param : route.query_params) {
        const std::string where = "query " + param.name + ": ";
        std::vector<std::string> values;
        for (const auto& given : *params) {
            if (given.name == param.name) values.push_back(given.value);
        }
        if (values.empty()) {
            if (param.required) {
                return Error{Errc::invalid_query_param, where + "required, " + param.type.describe()};
            }
            continue;
        }
        if (is_array_kind(param.type.kind)) {
            if (auto problem = param.type.check_array(values)) {
                return Error{Errc::invalid_query_param, where + *problem};
            }
            continue;
        }
        // The same scalar twice with different values: a backend may take the first or the
        // last, so the gateway cannot know which one it checked.
        for (const auto& value : values) {
            if (value != values.front()) {
                return Error{Errc::invalid_query_param,
                             where + "given more than once with different values (" +
                                 quoted_excerpt(values.front()) + ", " + quoted_excerpt(value) + ")"};
            }
        }
        if (auto problem = param.type.check(values.front())) {
            return Error{Errc::invalid_query_param, where + *problem + hint_for(values.front())};
        }
    }
    return Ok{};
}

Result<CheckedHead> check_head(const Config& config, const RequestHead& head,
                               const RouteConfig*& matched_route) {
    const std::size_t question = head.target.find('?');
    const std::string_view raw_path = head.target.substr(0, question);
    const std::string_view query =
        question == std::string_view::npos ? std::string_view() : head.target.substr(question + 1);

    auto canonical = canonicalize_path(raw_path);
    if (!canonical) return std::move(canonical).error();
    const std::string_view path = *canonical;

    RouteMatch match = config.table.match(head.method, path);
    if (match.kind == RouteMatch::Kind::path_not_found) {
        return Error{Errc::route_not_found, "no route matches " + quoted_excerpt(path, 256)};
    }
    if (match.kind == RouteMatch::Kind::method_not_allowed) {
        const std::string allow = join(match.allowed);
        Error error{Errc::method_not_allowed, "method " + quoted_excerpt(head.method) +
                                                  " is not allowed on " + quoted_excerpt(path, 256) +
                                                  "; allowed: " + allow};
        error.headers.emplace_back("Allow", allow);
        return error;
    }
    const RouteConfig& route = config.routes[match.route_index];
    matched_route = &route;

    if (auto roles = check_roles(route, head.auth_roles); !roles) return std::move(roles).error();
    if (auto params = check_path_params(route, match.path_values); !params) {
        return std::move(params).error();
    }
    if (auto checked = check_query(route, query); !checked) return std::move(checked).error();

    const bool has_body = head.chunked || head.content_length.value_or(0) > 0;
    if (!route.body_schema) {
        if (has_body) {
            return Error{Errc::unexpected_body,
                         "body: " + route.method + " " + route.path.text() + " takes no body, got " +
                             (head.chunked ? std::string("a chunked body")
                                           : std::to_string(*head.content_length) + " bytes")};
        }
    } else {
        const std::string_view media = head.content_type ? first_token(*head.content_type) : "";
        if (!iequals(media, "application/json")) {
            return Error{Errc::unsupported_media_type,
                         "header Content-Type: expected application/json, got " +
                             (head.content_type ? quoted_excerpt(*head.content_type) : "none")};
        }
        if (head.content_length && *head.content_length > route.max_body_bytes) {
            return Error{Errc::payload_too_large,
                         "body: " + std::to_string(*head.content_length) +
                             " bytes, the limit is " + std::to_string(route.max_body_bytes)};
        }
    }

    CheckedHead checked;
    checked.route = &route;
    checked.body_limit = route.body_schema ? route.max_body_bytes : 0;
    if (route.rewrite) {
        checked.upstream_target = route.rewrite->expand(
            std::vector<std::string_view>(match.path_values.begin(), match.path_values.end()),
            route.path.param_names());
    } else {
        checked.upstream_target = std::move(*canonical);
    }
    if (question != std::string_view::npos) {
        checked.upstream_target += '?';
        checked.upstream_target += query;
    }
    return checked;
}

Status check_body(const RouteConfig& route, std::string_view body) {
    if (!route.body_schema) return Ok{};
    return validate_body(*route.body_schema, body);
}

}  // namespace gateway
