// Stage "body": the whole body, once read, as JSON against the route's schema (400 40003 /
// 40004). Routes without a schema take no body (the media stage saw to that).
#include "pipeline/stages.hpp"

namespace gateway {

Status body_stage(Exchange& exchange) { return check_body(*exchange.route, exchange.body); }

}  // namespace gateway
