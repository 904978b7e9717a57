#include "server/request_spans.hpp"

#include "core/errc.hpp"

namespace gateway {
namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t unix_ns(std::chrono::system_clock::time_point wall) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(wall.time_since_epoch()).count());
}

/// A steady-clock instant as wall-clock nanoseconds, relative to the request's start.
std::uint64_t at(const ServerSpanFacts& facts, Clock::time_point when) {
    const auto since = std::chrono::duration_cast<std::chrono::nanoseconds>(when - facts.started).count();
    return unix_ns(facts.started_wall) + static_cast<std::uint64_t>(std::max<std::int64_t>(0, since));
}

/// How an attempt without an answer failed, in the words of gateway_upstream_errors_total.
std::string_view failure_type(Errc errc) {
    switch (errc) {
        case Errc::upstream_unreachable: return "refused";
        case Errc::upstream_timeout: return "timeout";
        case Errc::upstream_bad_response: return "bad_response";
        case Errc::upstream_tls_failed: return "tls";
        case Errc::upstream_overloaded: return "overloaded";
        default: return "reset";
    }
}

/// The route's template as OpenTelemetry's http.route wants it: parameters without their types
/// ("/a/{id:int64}" -> "/a/{id}").
std::string route_template(std::string_view path) {
    std::string out;
    out.reserve(path.size());
    bool in_parameter = false;
    bool in_type = false;
    for (const char c : path) {
        if (c == '{') in_parameter = true;
        if (c == '}') in_parameter = in_type = false;
        if (c == ':' && in_parameter) in_type = true;
        if (!in_type) out += c;
    }
    return out;
}

}  // namespace

std::vector<Span> request_spans(const TraceContext& trace, const ServerSpanFacts& facts,
                                const ClientReply& reply) {
    std::vector<Span> spans;
    spans.reserve(1 + reply.attempts.size());
    Span& server = spans.emplace_back();
    server.trace_id = trace.trace_id;
    server.span_id = trace.span_id;
    server.parent_id = trace.parent_id;
    server.has_parent = trace.continued;
    server.kind = Span::Kind::server;
    const std::string route = reply.route ? route_template(reply.route->path.text()) : std::string();
    server.name = std::string(facts.method);
    if (reply.route) server.name.append(" ").append(route);
    server.start_unix_ns = unix_ns(facts.started_wall);
    server.end_unix_ns = at(facts, facts.finished);
    const std::string_view path = facts.target.substr(0, facts.target.find('?'));
    server.attributes.reserve(10);
    server.add("http.request.method", facts.method);
    server.add("url.path", path);
    if (const auto question = facts.target.find('?'); question != std::string_view::npos) {
        server.add("url.query", facts.target.substr(question + 1));
    }
    if (reply.route) {
        server.add("http.route", route);
        server.add("gateway.route", reply.route->name);
    }
    server.add("http.response.status_code", static_cast<std::int64_t>(facts.status));
    if (!facts.host.empty()) server.add("server.address", facts.host);
    server.add("network.peer.address", facts.client_address);
    if (reply.error_code != 0) {
        // The gateway made this answer: its ErrorMessage code, and its kind as the error type.
        server.add("gateway.error_code", static_cast<std::int64_t>(reply.error_code));
        server.add("error.type", std::to_string(reply.error_code));
    } else if (facts.status >= 500) {
        server.add("error.type", std::to_string(facts.status));
    }
    // OpenTelemetry's HTTP server spans: 5xx is an error, 4xx is the client's.
    if (facts.status >= 500) {
        server.error = true;
        server.status_message = reply.error_code != 0 ? std::to_string(reply.error_code) : std::to_string(facts.status);
    }
    if (reply.rejection) {
        Span::Event& refused = server.events.emplace_back();
        refused.name = "gateway.refused";
        refused.time_unix_ns = server.end_unix_ns;
        refused.attributes.push_back({"gateway.check", std::string(reply.refused_by.empty() ? "head" : reply.refused_by), 0, false});
        refused.attributes.push_back({"gateway.error_code", {}, reply.error_code, true});
        if (!reply.refusal_detail.empty()) {
            refused.attributes.push_back({"exception.message", reply.refusal_detail, 0, false});
        }
    }
    if (!trace.replaced_because.empty()) {
        Span::Event& replaced = server.events.emplace_back();
        replaced.name = "gateway.traceparent_replaced";
        replaced.time_unix_ns = server.start_unix_ns;
        replaced.attributes.push_back({"gateway.reason", std::string(trace.replaced_because), 0, false});
    }

    for (std::size_t i = 0; i < reply.attempts.size(); ++i) {
        const UpstreamAttempt& attempt = reply.attempts[i];
        Span& client = spans.emplace_back();
        client.trace_id = trace.trace_id;
        client.span_id = attempt.span_id;
        client.parent_id = trace.span_id;
        client.has_parent = true;
        client.kind = Span::Kind::client;
        client.name = std::string(facts.method);
        client.start_unix_ns = at(facts, attempt.start);
        client.end_unix_ns = at(facts, attempt.end);
        client.attributes.reserve(8);
        client.add("http.request.method", facts.method);
        if (reply.forwarded) client.add("gateway.upstream", reply.upstream_name);
        if (attempt.endpoint) {
            client.add("server.address", attempt.endpoint->host);
            client.add("server.port", static_cast<std::int64_t>(attempt.endpoint->port));
            if (!attempt.endpoint->address.empty()) {
                client.add("network.peer.address", attempt.endpoint->address);
            }
        }
        if (i > 0) client.add("http.request.resend_count", static_cast<std::int64_t>(i));
        if (attempt.status != 0) {
            client.add("http.response.status_code", static_cast<std::int64_t>(attempt.status));
            if (attempt.status >= 400) {
                client.add("error.type", std::to_string(attempt.status));
                client.error = true;
                client.status_message = std::to_string(attempt.status);
            }
        } else if (attempt.failure) {
            const std::string_view type = failure_type(*attempt.failure);
            client.add("error.type", type);
            client.error = true;
            client.status_message = std::string(type);
        }
    }
    return spans;
}

}  // namespace gateway
