#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"
#include "upstream/connection_pool.hpp"
#include "upstream/streaming_body.hpp"

namespace gateway {

using UpstreamRequest = boost::beast::http::request<boost::beast::http::string_body>;
using UpstreamResponse = boost::beast::http::response<boost::beast::http::string_body>;

/// An upstream's answer: its head and whole body, or, for a success too big to buffer, its
/// head and first bytes (in `response`) with the rest still to relay.
struct UpstreamReply {
    UpstreamResponse response;
    std::unique_ptr<StreamingBody> rest;
};

/// The resolved addresses of every upstream endpoint, in config order: resolved once at
/// start-up so that no request ever waits on DNS.
using ResolvedUpstreams = std::vector<std::vector<boost::asio::ip::tcp::endpoint>>;

Result<ResolvedUpstreams> resolve_upstreams(const Config& config);

/// Sends requests to upstreams over this worker's pools, with the upstream's deadlines, and
/// turns every transport failure into an Errc (502 unreachable/reset/bad response, 504 timeout).
/// A request that failed on a reused connection before any response byte arrived is sent once
/// more on a fresh connection: the upstream most likely closed the idle socket meanwhile.
class Forwarder {
public:
    Forwarder(boost::asio::any_io_executor executor, const Config& config,
              const ResolvedUpstreams& endpoints);

    boost::asio::awaitable<Result<UpstreamReply>> forward(std::size_t upstream_index,
                                                          UpstreamRequest& request);

    /// Open connections over all pools, for tests and metrics.
    std::size_t open_connections() const noexcept;

private:
    struct Upstream {
        const UpstreamConfig* config = nullptr;
        // One per endpoint; shared with StreamingBody, which must not outlive it unknowingly.
        std::vector<std::shared_ptr<ConnectionPool>> pools;
        std::size_t next = 0;                                // round-robin cursor
    };

    std::vector<Upstream> upstreams_;
};

}  // namespace gateway
