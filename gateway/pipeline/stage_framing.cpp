// Stage "framing": the decisions Beast leaves to its user (Host, Content-Length,
// Transfer-Encoding, the target's form; see check_framing), then what the later stages need of
// the head, taken out of the parsed message once.
#include "pipeline/framing_checks.hpp"
#include "pipeline/head_reader.hpp"
#include "pipeline/stages.hpp"

namespace gateway {

Status framing_stage(Exchange& exchange) {
    if (!exchange.message) return Ok{};  // started from a head taken apart already
    auto origin_target = check_framing(*exchange.message);
    if (!origin_target) return std::move(origin_target).error();
    exchange.head = read_request_head(*exchange.message, exchange.content_length,
                                      exchange.chunked, exchange.roles_storage);
    exchange.head.target = *origin_target;
    return Ok{};
}

}  // namespace gateway
