#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "observe/span.hpp"

namespace gateway {

/// Sends finished spans to the OTLP/HTTP collector of `tracing:`, off the request path: workers
/// hand spans over to a bounded queue (a mutex held for a move, never for I/O) and one
/// background thread batches them (512 at most, or whatever a second brought), encodes them as
/// OTLP JSON and POSTs them with a 5 s timeout. A collector that answers 429, 502, 503 or 504,
/// or cannot be reached, gets the batch again after a backoff (its Retry-After when it sends
/// one; else 1 s, doubling to 30 s; 5 tries, then the batch is dropped and counted). Meanwhile
/// the queue fills; what does not fit in max_queue_spans is dropped and counted. A dead
/// collector therefore costs requests nothing but the hand-over.
class SpanExporter {
public:
    /// `version`: the gateway's, for the instrumentation scope.
    explicit SpanExporter(std::string version);
    ~SpanExporter();
    SpanExporter(const SpanExporter&) = delete;
    SpanExporter& operator=(const SpanExporter&) = delete;

    /// Thread-safe: the collector, service name and queue bound from now on (null: export
    /// nothing more; what is queued is dropped and counted).
    void apply(std::shared_ptr<const TracingConfig> tracing);

    /// Thread-safe: queues a request's spans (all or none); false, and counted as dropped, when
    /// they do not fit.
    bool submit(std::vector<Span>&& spans);

    /// Sends what is queued, trying each batch once, until the queue is empty or `deadline`;
    /// then stops the thread (shutdown: within the drain timeout).
    void drain(std::chrono::steady_clock::time_point deadline);

    std::uint64_t exported() const noexcept { return exported_.load(std::memory_order_relaxed); }
    std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
    std::uint64_t failed_exports() const noexcept { return failed_.load(std::memory_order_relaxed); }

    static constexpr std::size_t kBatch = 512;

private:
    enum class Sent { ok, retry, rejected };
    struct Outcome {
        Sent sent;
        std::chrono::milliseconds retry_after{0};  // from the collector's Retry-After, if any
        std::string problem;
    };

    void run();
    Outcome post(const TracingConfig& tracing, const std::string& body,
                 std::chrono::steady_clock::time_point deadline);
    void log_problem(const std::string& problem);

    const std::string version_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Span> queue_;                       // guarded by mutex_
    std::shared_ptr<const TracingConfig> tracing_;  // guarded by mutex_
    bool stopping_ = false;                        // guarded by mutex_
    std::chrono::steady_clock::time_point drain_by_{};  // guarded by mutex_ (once stopping_)
    std::atomic<std::uint64_t> exported_{0};
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> failed_{0};
    std::chrono::steady_clock::time_point last_log_{};
    /// When every wait of a post gives up (steady clock ticks): never, until drain() sets it.
    std::atomic<std::int64_t> cut_off_{std::numeric_limits<std::int64_t>::max()};
    std::thread thread_;
};

}  // namespace gateway
