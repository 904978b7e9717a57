#include <catch2/catch.hpp>

#include <chrono>

#include "upstream/retry_budget.hpp"

using namespace gateway;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

/// A time point on a whole second, so that offsets below a second stay in its bucket.
const Clock::time_point kStart = Clock::time_point(1'000'000s);

int spend_all(RetryBudget& budget, std::size_t percent, Clock::time_point now, int at_most = 1000) {
    int spent = 0;
    while (spent < at_most && budget.try_spend(percent, now)) ++spent;
    return spent;
}

}  // namespace

TEST_CASE("retry budget: 20 percent of 100 requests is 20 retries, the 21st is refused") {
    RetryBudget budget;
    for (int i = 0; i < 100; ++i) budget.count_request(kStart + std::chrono::milliseconds(i * 50));
    const auto now = kStart + 5s;
    for (int i = 0; i < 20; ++i) REQUIRE(budget.try_spend(20, now));
    CHECK_FALSE(budget.try_spend(20, now));
    CHECK_FALSE(budget.try_spend(20, now + 1s));
    // More requests make room again: 5 more is one more retry.
    for (int i = 0; i < 5; ++i) budget.count_request(now);
    CHECK(budget.try_spend(20, now));
    CHECK_FALSE(budget.try_spend(20, now));
}

TEST_CASE("retry budget: a quiet upstream still gets kMinRetries retries per window") {
    RetryBudget budget;
    CHECK(RetryBudget::kMinRetries == 3);
    CHECK(spend_all(budget, 20, kStart) == 3);  // no requests at all

    RetryBudget few;
    for (int i = 0; i < 10; ++i) few.count_request(kStart);  // 20 % of 10 is 2, under the floor
    CHECK(spend_all(few, 20, kStart + 500ms) == 3);

    RetryBudget all;
    for (int i = 0; i < 2; ++i) all.count_request(kStart);
    CHECK(spend_all(all, 100, kStart) == 3);
}

TEST_CASE("retry budget: percent 0 allows no retry at all") {
    RetryBudget budget;
    for (int i = 0; i < 1000; ++i) budget.count_request(kStart);
    CHECK_FALSE(budget.try_spend(0, kStart));
    CHECK_FALSE(budget.try_spend(0, kStart + 1s));
    CHECK(spend_all(budget, 1, kStart) == 10);  // the same requests under a 1 % budget
}

TEST_CASE("retry budget: requests older than the ten-second window no longer count") {
    RetryBudget budget;
    for (int i = 0; i < 100; ++i) budget.count_request(kStart);
    // Still in the window at 9.9 seconds: 20 % of 100 (minus none spent).
    RetryBudget in_window;
    for (int i = 0; i < 100; ++i) in_window.count_request(kStart);
    CHECK(spend_all(in_window, 20, kStart + 9900ms) == 20);
    // Ten seconds on, the bucket of kStart is out: only the floor is left.
    CHECK(spend_all(budget, 20, kStart + 10s) == RetryBudget::kMinRetries);

    // A bucket that is not recycled (another second's slot) is out of the window too.
    RetryBudget aged;
    for (int i = 0; i < 100; ++i) aged.count_request(kStart);
    CHECK(spend_all(aged, 20, kStart + 11s) == RetryBudget::kMinRetries);
}

TEST_CASE("retry budget: retries spent leave the window with their second") {
    RetryBudget budget;
    for (int i = 0; i < 50; ++i) budget.count_request(kStart);
    CHECK(spend_all(budget, 20, kStart) == 10);
    // Requests at 5 s keep counting; the retries of kStart age out at 10 s with their requests.
    for (int i = 0; i < 50; ++i) budget.count_request(kStart + 5s);
    CHECK(spend_all(budget, 20, kStart + 6s) == 10);        // 20 % of 100, 10 spent already
    CHECK(spend_all(budget, 20, kStart + 10s) == 0);        // 20 % of 50, the 10 of 6 s spent
    CHECK(spend_all(budget, 20, kStart + 16s) == RetryBudget::kMinRetries);
}
