#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "io/executor.hpp"
#include "io/resp.hpp"

namespace gateway {

/// A worker's Redis client: a few long-lived connections (pool_size per node) on which the
/// commands of concurrent requests are pipelined, written together once per turn of the event
/// loop, their replies matched to them in order. A caller waits for its own reply only, and
/// at most until its deadline; a reply that comes later is read and dropped.
///
/// Connections are made at once and remade in the background (50 ms, doubling up to 500 ms,
/// between attempts) after any failure, with AUTH first when the config has a password. With
/// `cluster: true` the slot map comes from CLUSTER SLOTS (at start, and again after a MOVED or
/// a lost node); a MOVED reply is followed to the slot's new master, ASK once with ASKING.
///
/// One thread's: every call, and the destructor, on the worker that owns it.
class RedisClient {
public:
    RedisClient(const Executor& executor, std::shared_ptr<const RedisConfig> config);
    ~RedisClient();
    RedisClient(const RedisClient&) = delete;
    RedisClient& operator=(const RedisClient&) = delete;

    enum class Outcome {
        reply,        // Redis answered (possibly with an error reply)
        timeout,      // no answer before the deadline
        unavailable,  // no connection to send it on, or it was lost before the answer
    };
    struct Result {
        Outcome outcome = Outcome::unavailable;
        RespReply reply;
        std::string detail;  // what went wrong, for logs and /ratelimits (no client sees it)
    };

    /// Sends `command` (RESP bytes: append_resp_command's) to the node that serves `slot`
    /// (redis_key_slot of its key; any node without a cluster) and waits for its reply until
    /// `deadline`. The caller encodes, so that what a decision repeats is encoded once.
    Task<Result> run(std::uint16_t slot, std::string command,
                     std::chrono::steady_clock::time_point deadline);

    const RedisConfig& config() const noexcept { return *config_; }

    /// Connections ready to take commands now (tests, /ratelimits).
    std::size_t ready_connections() const;

    struct Impl;

private:
    std::shared_ptr<const RedisConfig> config_;
    std::shared_ptr<Impl> impl_;  // shared with its connections' coroutines, which outlive calls
};

}  // namespace gateway
