#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <unordered_set>

#include "io/timed_stream.hpp"

#include "config/config.hpp"
#include "observe/access_log.hpp"
#include "observe/log_throttle.hpp"
#include "observe/worker_metrics.hpp"
#include "pipeline/request_pipeline.hpp"
#include "observe/span_exporter.hpp"
#include "observe/trace_context.hpp"
#include "upstream/header_policy.hpp"
#include "io/executor.hpp"

namespace gateway {

/// What a client connection borrows from its worker for its whole life.
struct ClientContext {
    std::shared_ptr<const Config> config;
    RequestPipeline& pipeline;
    RequestIdSource& request_ids;
    /// Client connections open in the whole process (shared by the workers: touched once per
    /// connection, never per request).
    std::atomic<std::size_t>& open_connections;
    WorkerMetrics& metrics;
    /// Null when the access log is off.
    AccessLog* access_log = nullptr;
    /// Scratch for formatting access-log lines: the worker's, reused by its connections in turn.
    std::string access_line{};
    /// Set when the worker drains for shutdown: answers carry Connection: close.
    bool draining = false;
    /// Connections waiting for their next request, so a drain can close them at once.
    std::unordered_set<TimedStream*> idle_streams{};
    /// Failed TLS handshakes are logged through it (shared by the workers: a line a second).
    LogThrottle* handshake_log = nullptr;
    /// The routes' rate limits, shared by the workers (null: none applied), and this worker's
    /// lock-free view of them.
    RateLimiter* rate_limiter = nullptr;
    RateLimiter::WorkerView rate_view{};
    /// The worker's trace and span ids (W3C Trace Context).
    TraceIdSource trace_ids{};
    /// Where traced requests' spans go (the process's exporter); null: nothing is recorded.
    SpanExporter* spans = nullptr;
};

/// Takes over an accepted client connection: reads a request head within its limits, admits
/// it, reads its body, completes it, writes the answer, and goes on while keep-alive holds.
/// Runs on the context's worker; never throws. While the connection waits for its next
/// request it holds no coroutine frame and no read buffer.
void serve_client(Transport transport, ClientContext& context);

/// The same for a connection to the TLS listener: a TLS handshake with the certificates of
/// the context's config (within header_timeout) comes first. A client that speaks plain HTTP
/// there gets a 400 saying so; a failed handshake is counted by reason and logged (at most a
/// line a second); the connection then ends.
void serve_tls_client(Transport transport, ClientContext& context);

}  // namespace gateway
