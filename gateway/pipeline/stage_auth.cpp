// Stage "auth": x-auth-roles against the route's roles (401 none given, 403 none allowed).
#include "pipeline/stages.hpp"

namespace gateway {

Status auth_stage(Exchange& exchange) {
    return check_roles(*exchange.route, exchange.head.auth_roles);
}

}  // namespace gateway
