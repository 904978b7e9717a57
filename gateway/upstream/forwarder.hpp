#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"
#include "observe/worker_metrics.hpp"
#include "upstream/connection_pool.hpp"
#include "upstream/streaming_body.hpp"
#include "io/executor.hpp"

namespace gateway {

/// A request in the form the upstream gets it: its head already written out
/// (append_upstream_head) and its body, which the caller keeps alive until forward() is done.
struct UpstreamRequest {
    boost::beast::http::verb method;
    std::string head;
    std::string_view body;
};

using UpstreamResponse = boost::beast::http::response<boost::beast::http::string_body>;

/// An upstream's answer: its head and whole body, or, for a success too big to buffer, its
/// head and first bytes (in `response`) with the rest still to relay.
struct UpstreamReply {
    UpstreamResponse response;
    std::unique_ptr<StreamingBody> rest;
    /// The endpoint tried (from the caller's config snapshot), answer or not; for the access
    /// log only: error details name the upstream, never its address.
    const Endpoint* endpoint = nullptr;
};

/// Sends requests to upstreams over this worker's pools, with the upstream's deadlines, and
/// turns every transport failure into an Errc (502 unreachable/reset/bad response, 504 timeout).
/// A request that failed before any response byte arrived is sent once more on a fresh
/// connection when its method is idempotent.
///
/// Pools are keyed by endpoint and pool settings, not by config version: a reload that keeps an
/// endpoint keeps its warm connections, and a request still running on the previous snapshot
/// finds the pool its snapshot names.
class Forwarder {
public:
    Forwarder(Executor executor, WorkerMetrics& metrics)
        : executor_(std::move(executor)), metrics_(metrics) {}

    /// `upstream` comes from the request's own config snapshot. The answer goes into `reply`
    /// (filled in place, not moved out through the coroutine); the Status says why none came.
    Task<Status> forward(const UpstreamConfig& upstream, const UpstreamRequest& request,
                         UpstreamReply& reply);

    /// Keeps the pools `config` uses and drops the others: their idle connections close now,
    /// their busy ones when the requests on them finish.
    void retain_only(const Config& config);

    /// Open connections over all pools, for tests and metrics.
    std::size_t open_connections() const noexcept;

private:
    std::shared_ptr<ConnectionPool> pool_for(const UpstreamConfig& upstream,
                                             const Endpoint& endpoint);

    Executor executor_;
    WorkerMetrics& metrics_;
    std::unordered_map<std::string, std::shared_ptr<ConnectionPool>> pools_;
    std::unordered_map<std::string, std::size_t> next_endpoint_;  // round-robin, by upstream name
};

}  // namespace gateway
