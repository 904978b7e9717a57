// Stage "params": the typed path parameters, then the query parameters (400 40001 / 40002).
#include "pipeline/stages.hpp"

namespace gateway {

Status params_stage(Exchange& exchange) {
    if (auto path = check_path_params(*exchange.route, exchange.match.path_values); !path) {
        return path;
    }
    return check_query(*exchange.route, exchange.query);
}

}  // namespace gateway
