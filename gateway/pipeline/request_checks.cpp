#include "pipeline/request_checks.hpp"

#include <algorithm>

#include "core/text.hpp"
#include "pipeline/body_validator.hpp"
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

}  // namespace

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

Status check_body(const RouteConfig& route, std::string_view body) {
    if (!route.body_schema) return Ok{};
    return validate_body(*route.body_schema, body);
}

}  // namespace gateway
