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
#include "pipeline/body_reader.hpp"
#include "pipeline/client_reply.hpp"
#include "pipeline/exchange.hpp"
#include "pipeline/global_rate_limiter.hpp"
#include "pipeline/request_checks.hpp"
#include "upstream/forwarder.hpp"
#include "io/executor.hpp"

namespace gateway {

/// The request pipeline: the head stages (stages.hpp: framing, match, auth, params, media),
/// the body read (body_reader.hpp), the body stages (body), then forward and normalise. Each
/// step can stop the chain; every stop is a ClientReply::refuse or an upstream failure's
/// ErrorMessage. The client connection only moves bytes: it reads the head, hands it over with
/// its connection (ClientSide), and writes what comes back.
class RequestPipeline {
public:
    RequestPipeline(Forwarder& forwarder, GlobalRateLimiter& global_limits)
        : forwarder_(forwarder), global_limits_(global_limits) {}

    /// Runs one request whose head is parsed (in client.parser, viewed by `exchange`) and fills
    /// `reply` in place (the answer is not moved through the coroutines' return values). Never
    /// throws.
    Task<void> serve(Exchange& exchange, ClientSide& client, std::string_view request_id,
                     ClientReply& reply);

private:
    /// A `scope: global` limit's verdict from Redis (the stage left it pending): a refusal,
    /// or nothing when the request goes on.
    Task<std::optional<Error>> decide_globally(Exchange& exchange);

    Forwarder& forwarder_;
    GlobalRateLimiter& global_limits_;
};

}  // namespace gateway
