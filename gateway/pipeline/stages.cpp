#include "pipeline/stages.hpp"

#include <array>

namespace gateway {

// Each defined in its own stage_*.cpp.
Status framing_stage(Exchange& exchange);
Status match_stage(Exchange& exchange);
Status auth_stage(Exchange& exchange);
Status rate_limit_stage(Exchange& exchange);
Status params_stage(Exchange& exchange);
Status media_stage(Exchange& exchange);
Status body_stage(Exchange& exchange);

namespace {

constexpr std::array kStages{
    Stage{"framing", Phase::head, framing_stage},
    Stage{"match", Phase::head, match_stage},
    Stage{"auth", Phase::head, auth_stage},
    Stage{"rate_limit", Phase::head, rate_limit_stage},
    Stage{"params", Phase::head, params_stage},
    Stage{"media", Phase::head, media_stage},
    Stage{"body", Phase::body, body_stage},
};

}  // namespace

std::span<const Stage> request_stages() { return kStages; }

Status run_stages(Phase phase, Exchange& exchange) {
    for (const Stage& stage : kStages) {
        if (stage.phase != phase) continue;
        if (auto passed = stage.run(exchange); !passed) {
            exchange.refused_by = stage.name;
            return passed;
        }
    }
    return Ok{};
}

Result<CheckedHead> admit(Exchange& exchange) {
    if (auto passed = run_stages(Phase::head, exchange); !passed) return std::move(passed).error();
    const RouteConfig& route = *exchange.route;
    CheckedHead checked;
    checked.route = &route;
    checked.body_limit = route.body_schema ? route.max_body_bytes : 0;
    if (route.rewrite) {
        checked.upstream_target = route.rewrite->expand(
            std::vector<std::string_view>(exchange.match.path_values.begin(),
                                          exchange.match.path_values.end()),
            route.path.param_names());
    } else {
        // Moved, not copied (a path is rarely short enough for the small-string buffer). The
        // parameter values view it, so they go too: body-phase stages must not need them.
        checked.upstream_target = std::move(exchange.path);
        exchange.match.path_values.clear();
    }
    if (exchange.has_query) {
        checked.upstream_target += '?';
        checked.upstream_target += exchange.query;
    }
    return checked;
}

Result<CheckedHead> check_head(const Config& config, const RequestHead& head) {
    Exchange exchange(config, nullptr);
    exchange.head = head;
    return admit(exchange);
}

}  // namespace gateway
