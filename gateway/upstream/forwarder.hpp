#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"
#include "observe/trace_context.hpp"
#include "observe/worker_metrics.hpp"
#include "upstream/admission_queue.hpp"
#include "upstream/connection_pool.hpp"
#include "upstream/streaming_body.hpp"
#include "upstream/upstream_state.hpp"
#include "io/executor.hpp"

namespace gateway {

/// A request in the form the upstream gets it: its head already written out
/// (append_upstream_head) and its body, which the caller keeps alive until forward() is done.
struct UpstreamAttempt;

struct UpstreamRequest {
    boost::beast::http::verb method;
    std::string head;
    std::string_view body;
    /// A traced request (null: not traced): each attempt is recorded here, and gets a span id
    /// of its own in the traceparent's parent-id, the 16 hex digits at `traceparent_span_at`
    /// in `head`, so the upstream's span is the child of the attempt that reached it.
    std::vector<UpstreamAttempt>* attempts = nullptr;
    std::size_t traceparent_span_at = std::string::npos;
};

/// One try of a traced request upstream: where, when, with which span id, and how it ended.
struct UpstreamAttempt {
    const Endpoint* endpoint = nullptr;
    std::array<char, 16> span_id{};
    std::chrono::steady_clock::time_point start{};
    std::chrono::steady_clock::time_point end{};
    unsigned status = 0;  // the upstream's status; 0: no answer
    std::optional<Errc> failure;
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
/// On the way it applies the upstream's protections, whose state the whole process shares
/// (UpstreamStates): the max_in_flight gate and its queue, the choice of an available endpoint
/// (round robin or least request, skipping ejected and unhealthy ones), outlier detection, and
/// the retry budget. A request that failed before any response byte arrived is sent once more,
/// to another endpoint where there is one, when its method is idempotent; one whose connection
/// could not be made, whatever its method, when the upstream has another endpoint.
///
/// Pools are keyed by endpoint and pool settings, not by config version: a reload that keeps an
/// endpoint keeps its warm connections, and a request still running on the previous snapshot
/// finds the pool its snapshot names.
class Forwarder {
public:
    using Post = AdmissionQueue::Post;

    /// `states` outlives the forwarder; `post_here` runs a task on this worker's thread from
    /// any thread (how another worker wakes requests waiting here for a slot).
    Forwarder(Executor executor, WorkerMetrics& metrics, UpstreamStates& states, Post post_here);
    /// A forwarder with states of its own, for tests of one worker.
    Forwarder(Executor executor, WorkerMetrics& metrics);

    /// `upstream` comes from the request's own config snapshot. The answer goes into `reply`
    /// (filled in place, not moved out through the coroutine); the Status says why none came.
    Task<Status> forward(const UpstreamConfig& upstream, const UpstreamRequest& request,
                         UpstreamReply& reply);

    /// Serves `config` from now on: keeps the pools it uses and drops the others (their idle
    /// connections close now, their busy ones when the requests on them finish), and binds
    /// its upstreams to their shared states.
    void retain_only(std::shared_ptr<const Config> config);

    /// Open connections over all pools, for tests and metrics.
    std::size_t open_connections() const noexcept;

private:
    /// What this worker keeps per upstream of the config in force: the shared state, the
    /// endpoints' states and pools in the config's order, the waiting queue, the turn.
    struct UpstreamSlot {
        std::shared_ptr<UpstreamState> state;
        std::vector<std::shared_ptr<EndpointState>> endpoints;
        std::vector<std::shared_ptr<ConnectionPool>> pools;
        std::shared_ptr<AdmissionQueue> queue;
        std::size_t* turn = nullptr;  // in turns_: shared by the slots of one upstream
    };

    std::shared_ptr<ConnectionPool> pool_for(const UpstreamConfig& upstream,
                                             const Endpoint& endpoint);
    std::shared_ptr<UpstreamSlot> make_slot(const UpstreamConfig& upstream, bool adopt);
    std::uint64_t next_random() noexcept;

    Executor executor_;
    WorkerMetrics& metrics_;
    std::unique_ptr<UpstreamStates> own_states_;  // only for the tests' constructor
    UpstreamStates& states_;
    Post post_here_;
    std::unordered_map<std::string, std::shared_ptr<ConnectionPool>> pools_;
    std::shared_ptr<const Config> config_;  // the one in force; its upstreams index slots_
    std::vector<std::shared_ptr<UpstreamSlot>> slots_;
    /// Round-robin turns by upstream state, for every config version alike (a request of an
    /// older snapshot takes the next turn too). Never erased: one entry per upstream name seen.
    std::unordered_map<const UpstreamState*, std::size_t> turns_;
    std::uint64_t random_state_;
    /// The span ids of traced requests' attempts (seeded from std::random_device: ids of
    /// different processes must not repeat one another in a trace).
    TraceIdSource span_ids_;
};

}  // namespace gateway
