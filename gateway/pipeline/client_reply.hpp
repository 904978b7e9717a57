#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "core/error.hpp"
#include "core/error_message.hpp"
#include "pipeline/error_responder.hpp"
#include "upstream/forwarder.hpp"
#include "upstream/streaming_body.hpp"

namespace gateway {

/// What the client gets for one request: a whole response, or a response head whose body
/// `rest` relays; whether the connection can go on; and, for the metrics and the access log,
/// how the answer came about. The pipeline fills it, the client connection writes and accounts
/// for it (Connection::answer in server/client_connection.cpp: the one place a reply is
/// counted and logged).
struct ClientReply {
    ClientResponse response;
    std::unique_ptr<StreamingBody> rest{};
    /// The route the request matched, if any (also when a check after matching refused it).
    const RouteConfig* route = nullptr;
    /// False when the connection must end after this answer (a refused request whose body
    /// was not read, a framing error).
    bool keep_alive = true;
    /// The client went away (or stalled past a deadline) mid-request: nothing to answer.
    bool disconnected = false;
    int error_code = 0;  // the ErrorMessage code when the gateway made the answer; 0 otherwise
    /// Why the gateway refused the request itself, for the rejection counter; upstream
    /// failures are counted by the forwarder instead.
    std::optional<Errc> rejection{};
    bool forwarded = false;        // the request was sent (or tried) upstream
    /// forwarded: the upstream's name, in the request's own config snapshot (which may not be
    /// the connection's: a reload can come between the accept and the request).
    std::string_view upstream_name;
    unsigned upstream_status = 0;  // the upstream's status; 0 when it gave no answer
    std::chrono::nanoseconds upstream_duration{0};
    /// The endpoint the request went to (in the request's config snapshot); null: none.
    const Endpoint* upstream_endpoint = nullptr;
    /// The first kUpstreamLoggedBytes of an upstream error body the client was not shown.
    std::string upstream_error_body{};
    /// A traced request (its spans are exported): the attempts upstream, and what refused it
    /// (the stage, or "body" for the body read, and its detail), for the span's event.
    bool traced = false;
    std::vector<UpstreamAttempt> attempts{};
    std::string_view refused_by{};
    std::string refusal_detail{};

    /// The gateway refuses the request itself: the ErrorMessage answer, its code, and the
    /// rejection to count.
    void refuse(const Error& error, unsigned http_version, std::string_view request_id) {
        response = render_error(error, http_version, request_id);
        error_code = info(error.errc).code;
        rejection = error.errc;
        if (traced) refusal_detail = error.detail;  // only a traced one pays for the copy
    }

    /// An answer the gateway makes for an upstream that failed (not a rejection).
    void answer_upstream_failure(const Error& error, unsigned http_version,
                                 std::string_view request_id) {
        response = render_error(error, http_version, request_id);
        error_code = info(error.errc).code;
    }
    void answer_upstream_failure(const ErrorMessage& message, unsigned http_version,
                                 std::string_view request_id) {
        response = render_error(message, http_version, request_id);
        error_code = message.code;
    }
};

}  // namespace gateway
