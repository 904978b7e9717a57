#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <algorithm>
#include <cstdint>

namespace gateway {

/// `retry_budget_percent`: retries may be at most that share of an upstream's requests over the
/// last ten seconds (whole process), so that a failing backend is not sent each request twice.
/// A floor of kMinRetries per window keeps the occasional retry (a pooled connection the backend
/// closed while idle) possible on a quiet upstream. Ten one-second buckets of atomic counters:
/// no lock; a bucket being recycled by two threads at once may lose a count or two, which a
/// budget can afford.
class RetryBudget {
public:
    static constexpr std::uint32_t kMinRetries = 3;
    static constexpr std::size_t kWindowSeconds = 10;

    /// One request (not a retry) to the upstream.
    void count_request(std::chrono::steady_clock::time_point now) noexcept;
    /// Whether one more retry fits in `percent` of the window's requests; if so it is counted.
    bool try_spend(std::size_t percent, std::chrono::steady_clock::time_point now) noexcept;

private:
    struct Bucket {
        std::atomic<std::int64_t> second{-1};
        std::atomic<std::uint32_t> requests{0};
        std::atomic<std::uint32_t> retries{0};
    };
    Bucket& current(std::int64_t second) noexcept;

    std::array<Bucket, kWindowSeconds> buckets_;
};

}  // namespace gateway
