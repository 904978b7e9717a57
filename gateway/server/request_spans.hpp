#pragma once

#include <chrono>
#include <string_view>
#include <vector>

#include "observe/span.hpp"
#include "observe/trace_context.hpp"
#include "pipeline/client_reply.hpp"

namespace gateway {

/// What a request's server span says besides its reply, gathered by the client connection
/// (copies of the head's fields, taken before the pipeline moves the message on).
struct ServerSpanFacts {
    std::string_view method;
    std::string_view target;          // path and query as received
    std::string_view host;            // the Host header, without its port
    std::string_view client_address;
    unsigned status = 0;
    std::chrono::system_clock::time_point started_wall{};
    std::chrono::steady_clock::time_point started{};
    std::chrono::steady_clock::time_point finished{};
};

/// The spans of a traced request: its server span (the gateway's span id, the caller's as
/// parent), named `METHOD ROUTE-TEMPLATE` (or just the method when no route matched), with the
/// OpenTelemetry HTTP server attributes, the ErrorMessage code when the gateway made the answer
/// and an event for the check that refused it; and one client span per attempt upstream (child
/// of the server span, the attempt's span id: the upstream's parent), its retries numbered.
std::vector<Span> request_spans(const TraceContext& trace, const ServerSpanFacts& facts,
                                const ClientReply& reply);

}  // namespace gateway
