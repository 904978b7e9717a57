#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "pipeline/error_responder.hpp"
#include "pipeline/request_checks.hpp"
#include "upstream/forwarder.hpp"
#include "io/executor.hpp"

namespace gateway {

using ClientRequest = boost::beast::http::request<boost::beast::http::string_body>;

/// What the client gets: a whole response, or a response head whose body `rest` relays; and,
/// for the access log, how the answer came about.
struct ClientReply {
    ClientResponse response;
    std::unique_ptr<StreamingBody> rest{};
    int error_code = 0;  // the ErrorMessage code when the gateway made the answer; 0 otherwise
    /// Why the gateway refused the request itself (its body did not pass), for the rejection
    /// counter; upstream failures are counted by the forwarder instead.
    std::optional<Errc> rejection{};
    bool forwarded = false;        // the request was sent (or tried) upstream
    unsigned upstream_status = 0;  // the upstream's status; 0 when it gave no answer
    std::chrono::nanoseconds upstream_duration{0};
    /// The endpoint the request went to (in the request's config snapshot); null: none.
    const Endpoint* upstream_endpoint = nullptr;
    /// The first kUpstreamLoggedBytes of an upstream error body the client was not shown.
    std::string upstream_error_body{};
};

/// The fixed chain every request goes through: framing, match, auth, params (admit, on the head alone,
/// so nothing is read for a request that is refused anyway), then body, forward and normalise
/// (complete). Each step can stop the chain; every stop ends in render_error.
class RequestPipeline {
public:
    explicit RequestPipeline(Forwarder& forwarder) : forwarder_(forwarder) {}

    /// `matched_route`: see check_head.
    Result<CheckedHead> admit(const Config& config,
                              const boost::beast::http::request_header<>& header,
                              std::optional<std::uint64_t> content_length, bool chunked,
                              const RouteConfig*& matched_route) const;

    /// Checks the body, forwards, and fills `reply` with what the client gets: the upstream's
    /// success unchanged or an ErrorMessage. Filled in place: the answer is not moved through
    /// the coroutines' return values. Never throws.
    Task<void> complete(const Config& config, const CheckedHead& checked, ClientRequest& request,
                        std::string_view client_address, std::string_view request_id,
                        ClientReply& reply);

private:
    Forwarder& forwarder_;
};

}  // namespace gateway
