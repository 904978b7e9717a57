// Stage "match": the canonical path (routing/canonical_path) and the route for method + path;
// 404 when no template matches, 405 with Allow when only the method does not.
#include "core/text.hpp"
#include "pipeline/stages.hpp"
#include "routing/canonical_path.hpp"

namespace gateway {

Status match_stage(Exchange& exchange) {
    const std::string_view target = exchange.head.target;
    const std::size_t question = target.find('?');
    exchange.has_query = question != std::string_view::npos;
    if (exchange.has_query) exchange.query = target.substr(question + 1);

    auto canonical = canonicalize_path(target.substr(0, question));
    if (!canonical) return std::move(canonical).error();
    exchange.path = std::move(*canonical);
    const std::string_view path = exchange.path;

    exchange.match = exchange.config.table.match(exchange.head.method, path);
    const RouteMatch& match = exchange.match;
    if (match.kind == RouteMatch::Kind::path_not_found) {
        return Error{Errc::route_not_found, "no route matches " + quoted_excerpt(path, 256)};
    }
    if (match.kind == RouteMatch::Kind::method_not_allowed) {
        const std::string allow = join(match.allowed);
        Error error{Errc::method_not_allowed, "method " + quoted_excerpt(exchange.head.method) +
                                                  " is not allowed on " + quoted_excerpt(path, 256) +
                                                  "; allowed: " + allow};
        error.headers.emplace_back("Allow", allow);
        return error;
    }
    exchange.route = &exchange.config.routes[match.route_index];
    return Ok{};
}

}  // namespace gateway
