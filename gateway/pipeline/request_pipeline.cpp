#include "pipeline/request_pipeline.hpp"

#include <string>

#include "pipeline/framing_checks.hpp"
#include "pipeline/head_reader.hpp"
#include "pipeline/upstream_answer.hpp"
#include "upstream/header_policy.hpp"

namespace gateway {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

void answer_error(ClientReply& reply, const Error& error, unsigned version,
                  std::string_view request_id) {
    reply.response = render_error(error, version, request_id);
    reply.error_code = info(error.errc).code;
}

void answer_error(ClientReply& reply, const ErrorMessage& message, unsigned version,
                  std::string_view request_id) {
    reply.response = render_error(message, version, request_id);
    reply.error_code = message.code;
}

}  // namespace

Result<CheckedHead> RequestPipeline::admit(const Config& config,
                                           const http::request_header<>& header,
                                           std::optional<std::uint64_t> content_length,
                                           bool chunked,
                                           const RouteConfig*& matched_route) const {
    auto origin_target = check_framing(header);
    if (!origin_target) return std::move(origin_target).error();
    std::string roles;
    RequestHead head = read_request_head(header, content_length, chunked, roles);
    head.target = *origin_target;
    return check_head(config, head, matched_route);
}

Task<void> RequestPipeline::complete(const Config& config, const CheckedHead& checked,
                                     ClientRequest& request, std::string_view client_address,
                                     std::string_view request_id, ClientReply& reply) {
    const unsigned version = request.version();
    if (auto body = check_body(*checked.route, request.body()); !body) {
        answer_error(reply, body.error(), version, request_id);
        reply.rejection = body.error().errc;
        co_return;
    }

    // The client's method, headers and body bytes, with the gateway's edits: new target when
    // rewritten, hop-by-hop headers dropped, always HTTP/1.1 keep-alive.
    const UpstreamConfig& upstream = config.upstreams[checked.route->upstream_index];
    const http::verb method = request.method();
    const Endpoint& first_endpoint = upstream.endpoints.front();
    UpstreamHeadEdits edits{checked.upstream_target, client_address, request_id,
                            first_endpoint.host, first_endpoint.port};
    edits.send_content_length = !request.body().empty() || method == http::verb::post ||
                                method == http::verb::put || method == http::verb::patch;
    edits.body_size = request.body().size();
    UpstreamRequest upstream_request{method, {}, request.body()};
    upstream_request.head.reserve(512);
    append_upstream_head(upstream_request.head, request, edits);

    const auto sent = std::chrono::steady_clock::now();
    UpstreamReply answer;
    const Status forwarded = co_await forwarder_.forward(upstream, upstream_request, answer);
    // Every answer from here on went by the upstream: say so, with its status (0: none came).
    reply.forwarded = true;
    reply.upstream_endpoint = answer.endpoint;
    reply.upstream_duration = std::chrono::steady_clock::now() - sent;
    if (!forwarded) {
        answer_error(reply, forwarded.error(), version, request_id);
        co_return;
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
                answer_error(reply, *normalised, version, request_id);
                co_return;
            }
        }
        reply.response = std::move(response);
        co_return;
    }
    // A streamed body: the relay frames it (the upstream's length, or chunked).
    reply.response = std::move(response);
    reply.rest = std::move(answer.rest);
}

}  // namespace gateway
