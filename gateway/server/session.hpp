#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <memory>

#include "config/config.hpp"
#include "pipeline/request_pipeline.hpp"
#include "server/server_limits.hpp"
#include "upstream/header_policy.hpp"

namespace gateway {

/// What a session borrows from its worker for its whole life.
struct SessionContext {
    std::shared_ptr<const Config> config;
    RequestPipeline& pipeline;
    RequestIdSource& request_ids;
    const ServerLimits& limits;
};

/// One client connection: read a request head, admit it, read its body, complete it, write the
/// answer, and loop while keep-alive holds. Owns the socket; never throws.
boost::asio::awaitable<void> run_session(boost::asio::ip::tcp::socket socket,
                                         SessionContext& context);

}  // namespace gateway
