#include "pipeline/request_pipeline.hpp"

#include <string>

#include "pipeline/stages.hpp"
#include "pipeline/upstream_answer.hpp"
#include "upstream/header_policy.hpp"

namespace gateway {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

/// The client's method, headers and body bytes, with the gateway's edits: new target when
/// rewritten, hop-by-hop headers dropped, always HTTP/1.1 keep-alive.
UpstreamRequest upstream_request_for(const UpstreamConfig& upstream, const CheckedHead& checked,
                                     const ClientRequest& request,
                                     std::string_view client_address,
                                     std::string_view request_id, const TraceContext* trace) {
    const http::verb method = request.method();
    const Endpoint& first_endpoint = upstream.endpoints.front();
    UpstreamHeadEdits edits{checked.upstream_target, client_address, request_id,
                            first_endpoint.host, first_endpoint.port};
    edits.send_content_length = !request.body().empty() || method == http::verb::post ||
                                method == http::verb::put || method == http::verb::patch;
    edits.body_size = request.body().size();
    std::array<char, TraceContext::kTraceparentSize> traceparent;
    if (trace) {
        trace->write_traceparent(traceparent, trace->span_id_text());
        edits.traceparent = std::string_view(traceparent.data(), traceparent.size());
        edits.tracestate = trace->tracestate;
    }
    UpstreamRequest upstream_request{method, {}, request.body()};
    upstream_request.head.reserve(512);
    append_upstream_head(upstream_request.head, request, edits);
    if (trace && trace->recording) {
        // Where each attempt writes its own span id: the parent-id of the traceparent written.
        constexpr std::string_view kField = "\r\ntraceparent: 00-";
        const auto at = upstream_request.head.find(kField);
        if (at != std::string::npos) upstream_request.traceparent_span_at = at + kField.size() + 33;
    }
    return upstream_request;
}

/// The normalise step: what the client gets of the upstream's answer, or of its failure.
void take_answer(const UpstreamConfig& upstream, const Status& forwarded, UpstreamReply& answer,
                 std::chrono::steady_clock::time_point sent, unsigned version,
                 std::string_view request_id, ClientReply& reply) {
    // Every answer from here on went by the upstream: say so, with its status (0: none came).
    reply.forwarded = true;
    reply.upstream_name = upstream.name;
    reply.upstream_endpoint = answer.endpoint;
    reply.upstream_duration = std::chrono::steady_clock::now() - sent;
    if (!forwarded) {
        reply.answer_upstream_failure(forwarded.error(), version, request_id);
        return;
    }

    UpstreamResponse& response = answer.response;
    reply.upstream_status = response.result_int();
    if (!answer.rest) {
        const int status = static_cast<int>(response.result_int());
        if (!passes_unchanged(status)) {
            const auto content_type = response.find(http::field::content_type);
            const auto normalised = normalise_upstream_answer(
                upstream.name, status, response.reason(),
                content_type == response.end() ? std::string_view() : content_type->value(),
                response.body(), upstream.expose_error_body);
            if (normalised) {
                // What the client is not shown, the operator finds in the access log.
                const std::string_view body = response.body();
                reply.upstream_error_body.assign(body.substr(0, kUpstreamLoggedBytes));
                reply.answer_upstream_failure(*normalised, version, request_id);
                return;
            }
        }
        reply.response = std::move(response);
        return;
    }
    // A streamed body: the relay frames it (the upstream's length, or chunked).
    reply.response = std::move(response);
    reply.rest = std::move(answer.rest);
}


}  // namespace

Task<std::optional<Error>> RequestPipeline::decide_globally(Exchange& exchange) {
    const RouteConfig& route = *exchange.route;
    const RateLimit& limit = *route.rate_limit;
    const GlobalRateDecision decided =
        co_await global_limits_.decide(route, limit, exchange.global_rate_key);
    exchange.rate_verdict = decided.verdict;
    exchange.rate_fallback = decided.reason;
    switch (decided.verdict) {
        case RateVerdict::denied: co_return rate_limited_error(route, limit, decided.decision);
        case RateVerdict::fallback:
            if (limit.on_redis_error == RateLimit::OnRedisError::deny) {
                static constexpr std::string_view kWhy[] = {
                    "it did not answer in time", "it could not be reached",
                    "it answered with an error", "it failed repeatedly just before"};
                co_return rate_limit_unavailable_error(route, kWhy[static_cast<std::size_t>(decided.reason)]);
            }
            co_return std::nullopt;
        default: co_return std::nullopt;
    }
}

Task<void> RequestPipeline::serve(Exchange& exchange, ClientSide& client,
                                  std::string_view request_id, ClientReply& reply) {
    RequestParser& parser = client.parser;
    const unsigned version = parser.get().version();
    reply.traced = exchange.trace && exchange.trace->recording;
    auto admitted = admit(exchange);
    reply.route = exchange.route;
    reply.refused_by = exchange.refused_by;
    if (!admitted) {
        reply.refuse(admitted.error(), version, request_id);
        // After a framing error the byte stream cannot be trusted; after any refusal with
        // an unread body it is out of step: either way the connection ends here.
        if (!parser.is_done() || admitted.error().errc == Errc::malformed_request) {
            reply.keep_alive = false;
        }
        co_return;
    }
    if (exchange.global_rate_pending) {
        std::optional<Error> refusal = co_await decide_globally(exchange);
        if (refusal) {
            reply.refused_by = "rate_limit";
            reply.refuse(*refusal, version, request_id);
            if (!parser.is_done()) reply.keep_alive = false;  // its body is unread
            co_return;
        }
    }
    BodyReader reader(client, admitted->body_limit);
    if (!reader.take_buffered()) co_await reader.read_rest();
    const BodyRead& body = reader.result();
    if (body.outcome == BodyRead::Outcome::disconnected) {
        reply.disconnected = true;
        co_return;
    }
    if (body.outcome == BodyRead::Outcome::refused) {
        reply.refused_by = "body";
        reply.refuse(*body.refusal, version, request_id);
        reply.keep_alive = false;
        co_return;
    }
    // The client owes nothing while the upstream works (that has its own deadlines): a
    // header or body deadline still running would cut a slow but timely answer.
    client.stream.expires_never();
    ClientRequest request = parser.release();
    exchange.message = &request;
    exchange.body = request.body();
    if (auto passed = run_stages(Phase::body, exchange); !passed) {
        reply.refused_by = exchange.refused_by;
        reply.refuse(passed.error(), version, request_id);
        co_return;
    }
    // Forward (within this coroutine: a separate step would cost a frame), then normalise.
    const UpstreamConfig& upstream = exchange.config.upstreams[admitted->route->upstream_index];
    UpstreamRequest upstream_request =
        upstream_request_for(upstream, *admitted, request, client.address, request_id, exchange.trace);
    if (reply.traced) upstream_request.attempts = &reply.attempts;
    const auto sent = std::chrono::steady_clock::now();
    UpstreamReply answer;
    const Status forwarded = co_await forwarder_.forward(upstream, upstream_request, answer);
    take_answer(upstream, forwarded, answer, sent, version, request_id, reply);
}

}  // namespace gateway
