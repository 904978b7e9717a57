#pragma once

#include <span>
#include <string_view>

#include "core/result.hpp"
#include "pipeline/exchange.hpp"

namespace gateway {

/// When a stage runs: on the head alone (before any body byte is read, so nothing is read for
/// a request that is refused anyway), or on the whole body once read.
enum class Phase { head, body };

/// One step of the request pipeline. Every stage has this shape: it looks at the exchange,
/// fills in what it found for the stages after it, and either lets the request go on or
/// refuses it with the Error the client gets. Stages are plain functions (no Asio): the fuzz
/// targets run the same list the server does.
struct Stage {
    std::string_view name;
    Phase phase;
    Status (*run)(Exchange&);
};

/// The stages every request goes through, in order: framing, match, auth, rate_limit, params,
/// media (the
/// body's declared type and size), then body. Forwarding and the normalising of the upstream's
/// answer follow in RequestPipeline. A new stage is a new stage_*.cpp and one line in this
/// list (stages.cpp).
std::span<const Stage> request_stages();

/// Runs the stages of `phase` in order; the first refusal stops them.
Status run_stages(Phase phase, Exchange& exchange);

/// The head phase, and what a request that passed it goes on with: the route, the target to
/// send upstream (rewritten or as received, with the query as received) and the body limit.
/// exchange.route is set as soon as a route matches, whatever comes after.
Result<CheckedHead> admit(Exchange& exchange);

/// The head checks after framing, for a head taken apart already (tests, tools).
Result<CheckedHead> check_head(const Config& config, const RequestHead& head);

}  // namespace gateway
