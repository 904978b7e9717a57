#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "observe/rate_limit_outcome.hpp"
#include "observe/trace_context.hpp"
#include "pipeline/rate_limiter.hpp"
#include "pipeline/request_checks.hpp"
#include "routing/route_table.hpp"

namespace gateway {

using ClientRequest = boost::beast::http::request<boost::beast::http::string_body>;
using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

/// One request on its way through the stages (stages.hpp): what it came with, and what each
/// stage found out for the ones after it. Stages read and fill it in their order; none keeps
/// anything of it. Views in it point into `message`, into its own strings, or into `config`,
/// so it stays where it was made (not copyable, not movable).
struct Exchange {
    Exchange(const Config& config_, const boost::beast::http::request_header<>* message_)
        : config(config_), message(message_) {}
    Exchange(const Exchange&) = delete;
    Exchange& operator=(const Exchange&) = delete;

    const Config& config;
    /// The parsed request head; null when a caller starts from `head` itself (the framing
    /// stage then has nothing to do).
    const boost::beast::http::request_header<>* message;
    /// The process's rate limits (null: none are applied), this worker's view of them (null:
    /// the limiter is asked under its lock), and who the request came from.
    RateLimiter* rate_limiter = nullptr;
    RateLimiter::WorkerView* rate_view = nullptr;
    std::string_view client_address;
    /// The request's trace (W3C Trace Context): what the upstream's traceparent says. Null:
    /// the client's trace headers go on untouched (tests, tools).
    const TraceContext* trace = nullptr;
    /// The stage that refused the request (for its trace's event); empty while none has.
    std::string_view refused_by;
    /// What the route's rate limit decided (the counters'), and for a global limit, which the
    /// rate_limit stage leaves to the pipeline (Redis is asked asynchronously), the key.
    RateVerdict rate_verdict = RateVerdict::none;
    RateFallback rate_fallback = RateFallback::timeout;
    bool global_rate_pending = false;
    std::string_view global_rate_key;
    std::optional<std::uint64_t> content_length;  // as the parser read it
    bool chunked = false;

    // framing: what the checks need of the head (read_request_head), its origin-form target.
    RequestHead head;
    std::string roles_storage;  // several x-auth-roles lines joined; head.auth_roles views it

    // match: the canonical path, the query after '?', the route and its parameter values.
    // admit() moves the path into the upstream target when the route has no rewrite, and
    // clears the values with it: they are for head-phase stages.
    std::string path;
    std::string_view query;
    bool has_query = false;
    RouteMatch match;
    /// The route, as soon as one matched: refusals after matching are still counted and
    /// logged under it.
    const RouteConfig* route = nullptr;

    // body phase: the whole body, once read.
    std::string_view body;
};

}  // namespace gateway
