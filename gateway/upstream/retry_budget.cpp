#include "upstream/retry_budget.hpp"

namespace gateway {
namespace {

std::int64_t second_of(std::chrono::steady_clock::time_point now) {
    return std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
}

}  // namespace

RetryBudget::Bucket& RetryBudget::current(std::int64_t second) noexcept {
    Bucket& bucket = buckets_[static_cast<std::size_t>(second) % kWindowSeconds];
    auto seen = bucket.second.load(std::memory_order_acquire);
    if (seen != second && bucket.second.compare_exchange_strong(seen, second)) {
        bucket.requests.store(0, std::memory_order_relaxed);
        bucket.retries.store(0, std::memory_order_relaxed);
    }
    return bucket;
}

void RetryBudget::count_request(std::chrono::steady_clock::time_point now) noexcept {
    current(second_of(now)).requests.fetch_add(1, std::memory_order_relaxed);
}

bool RetryBudget::try_spend(std::size_t percent, std::chrono::steady_clock::time_point now) noexcept {
    if (percent == 0) return false;
    const std::int64_t second = second_of(now);
    Bucket& bucket = current(second);
    std::uint64_t requests = 0;
    std::uint64_t retries = 0;
    for (const Bucket& each : buckets_) {
        const auto at = each.second.load(std::memory_order_acquire);
        if (at > second - static_cast<std::int64_t>(kWindowSeconds) && at <= second) {
            requests += each.requests.load(std::memory_order_relaxed);
            retries += each.retries.load(std::memory_order_relaxed);
        }
    }
    const std::uint64_t allowed = std::max<std::uint64_t>(kMinRetries, requests * percent / 100);
    if (retries >= allowed) return false;
    bucket.retries.fetch_add(1, std::memory_order_relaxed);
    return true;
}

}  // namespace gateway
