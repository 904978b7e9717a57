#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/rate_limiter.hpp"

using namespace gateway;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

// Any instant will do; a fake clock is an offset from it.
const Clock::time_point t0 = Clock::time_point{} + 3600s;

RateLimit limit_of(double requests_per_second, std::size_t burst,
                   RateLimit::Key key = RateLimit::Key::client_ip, std::size_t max_keys = 16384) {
    RateLimit limit;
    limit.requests_per_second = requests_per_second;
    limit.burst = burst;
    limit.key = key;
    limit.max_keys = max_keys;
    if (key == RateLimit::Key::header) limit.header_name = "x-api-key";
    return limit;
}

RouteConfig route_of(std::string name, std::optional<RateLimit> limit) {
    RouteConfig route;
    route.name = std::move(name);
    route.rate_limit = std::move(limit);
    return route;
}

// Takes every token `key` has at `now`; how many it had.
std::size_t drain(RateLimiter& limiter, std::string_view route, const RateLimit& limit,
                  std::string_view key, Clock::time_point now) {
    std::size_t passed = 0;
    while (limiter.decide(route, limit, key, now).allowed) ++passed;
    return passed;
}

}  // namespace

TEST_CASE(
    "rate limit: at 50 a second with a burst of 100, requests offered faster pass exactly 600 in "
    "10 s",
    "[rate_limit]") {
    const auto key = GENERATE(RateLimit::Key::client_ip, RateLimit::Key::route);
    const RateLimit limit = limit_of(50, 100, key);
    RateLimiter limiter;
    std::size_t passed = 0;
    // 150 requests at 0, then three every millisecond up to 10 s inclusive: the burst at once,
    // then one every 20 ms, the last at 10 s itself.
    for (auto at = 0ms; at <= 10s; at += 1ms) {
        const int offered = at == 0ms ? 150 : 3;
        for (int i = 0; i < offered; ++i) {
            if (limiter.decide("penalties", limit, "10.0.0.1", t0 + at).allowed) ++passed;
        }
        if (at == 0ms) CHECK(passed == 100);
    }
    CHECK(passed == 600);
}

TEST_CASE("rate limit: a fractional rate of 0.5 a second passes one request every 2 s",
          "[rate_limit]") {
    const RateLimit limit = limit_of(0.5, 1);
    RateLimiter limiter;
    CHECK(limiter.decide("r", limit, "k", t0).allowed);
    CHECK_FALSE(limiter.decide("r", limit, "k", t0 + 1s).allowed);
    CHECK_FALSE(limiter.decide("r", limit, "k", t0 + 2s - 1ns).allowed);
    CHECK(limiter.decide("r", limit, "k", t0 + 2s).allowed);

    RateLimiter fresh;
    std::size_t passed = 0;
    for (auto at = 0ms; at <= 60s; at += 10ms) {
        if (fresh.decide("r", limit, "k", t0 + at).allowed) ++passed;
    }
    CHECK(passed == 31);  // at 0, 2, 4, ... 60 s
}

TEST_CASE("rate limit: remaining counts whole tokens and retry_after the time until one is back",
          "[rate_limit]") {
    const RateLimit limit = limit_of(50, 2);
    RateLimiter limiter;
    const auto first = limiter.decide("r", limit, "k", t0);
    CHECK(first.allowed);
    CHECK(first.remaining == 1);
    CHECK(first.retry_after == 0ms);

    // The last token: allowed, and the next one is 20 ms away.
    const auto second = limiter.decide("r", limit, "k", t0);
    CHECK(second.allowed);
    CHECK(second.remaining == 0);
    CHECK(second.retry_after == 20ms);

    const auto refused = limiter.decide("r", limit, "k", t0);
    CHECK_FALSE(refused.allowed);
    CHECK(refused.remaining == 0);
    CHECK(refused.retry_after == 20ms);
    CHECK(limiter.decide("r", limit, "k", t0 + 5ms).retry_after == 15ms);
    // Rounded up: 1 ns short of the token is still a millisecond to wait.
    CHECK(limiter.decide("r", limit, "k", t0 + 20ms - 1ns).retry_after == 1ms);

    const auto refilled = limiter.decide("r", limit, "k", t0 + 20ms);
    CHECK(refilled.allowed);
    CHECK(refilled.remaining == 0);
    CHECK(refilled.retry_after == 20ms);
    // A token and a half back, one taken: the half left is no whole one.
    CHECK(limiter.decide("r", limit, "k", t0 + 50ms).remaining == 0);
    CHECK(limiter.decide("r", limit, "k", t0 + 1s).remaining == 1);

    // A third of a second is 333333333 ns a token, rounded up to the millisecond.
    const RateLimit thirds = limit_of(3, 1);
    CHECK(limiter.decide("thirds", thirds, "k", t0).allowed);
    CHECK(limiter.decide("thirds", thirds, "k", t0).retry_after == 334ms);
}

TEST_CASE("rate limit: Retry-After is retry_after rounded up to the second, at least 1",
          "[rate_limit]") {
    CHECK(retry_after_seconds({false, 0, 20ms}) == 1s);
    CHECK(retry_after_seconds({false, 0, 0ms}) == 1s);
    CHECK(retry_after_seconds({false, 0, 2000ms}) == 2s);
    CHECK(retry_after_seconds({false, 0, 2001ms}) == 3s);

    const RateLimit limit = limit_of(0.5, 1);
    RateLimiter limiter;
    CHECK(limiter.decide("r", limit, "k", t0).allowed);
    const auto refused = limiter.decide("r", limit, "k", t0 + 1ms);
    CHECK(refused.retry_after == 1999ms);
    CHECK(retry_after_seconds(refused) == 2s);
}

TEST_CASE("rate limit: distinct keys and distinct routes have buckets of their own",
          "[rate_limit]") {
    const RateLimit limit = limit_of(1, 5);
    RateLimiter limiter;
    CHECK(drain(limiter, "r", limit, "10.0.0.1", t0) == 5);
    CHECK(drain(limiter, "r", limit, "10.0.0.2", t0) == 5);
    CHECK(drain(limiter, "other", limit, "10.0.0.1", t0) == 5);
    // Without the header, requests share the empty key's bucket.
    const RateLimit by_header = limit_of(1, 5, RateLimit::Key::header);
    CHECK(drain(limiter, "h", by_header, "", t0) == 5);
    CHECK(drain(limiter, "h", by_header, "key-1", t0) == 5);
    CHECK(limiter.keys("r") == 2);
    CHECK(limiter.keys("other") == 1);
    CHECK(limiter.keys("h") == 2);
    CHECK(limiter.keys("unknown") == 0);
}

TEST_CASE("rate limit: key route keeps one bucket for the whole route, whatever the key",
          "[rate_limit]") {
    const RateLimit limit = limit_of(1, 5, RateLimit::Key::route);
    RateLimiter limiter;
    std::size_t passed = 0;
    for (int i = 0; i < 20; ++i) {
        if (limiter.decide("r", limit, "10.0.0." + std::to_string(i), t0).allowed) ++passed;
    }
    CHECK(passed == 5);
    CHECK(limiter.keys("r") == 1);
    CHECK(limiter.decide("r", limit, "", t0 + 1s).allowed);
}

TEST_CASE(
    "rate limit: a flood of 100000 distinct keys keeps max_keys buckets and evicts the least "
    "recently used",
    "[rate_limit]") {
    // Large enough to be sharded.
    const std::size_t max_keys = 1000;
    const RateLimit limit = limit_of(0.001, 1, RateLimit::Key::client_ip, max_keys);
    RateLimiter limiter;
    CHECK(drain(limiter, "r", limit, "old", t0) == 1);
    CHECK(drain(limiter, "r", limit, "hot", t0) == 1);
    std::size_t hot_passed = 0;
    std::size_t flood_refused = 0;
    for (int i = 0; i < 100'000; ++i) {
        if (!limiter.decide("r", limit, "flood-" + std::to_string(i), t0).allowed) ++flood_refused;
        // Used after every new key: never the least recently used, so never evicted (an
        // evicted bucket would come back full and let it pass).
        if (limiter.decide("r", limit, "hot", t0).allowed) ++hot_passed;
        if (i % 10'000 == 0) REQUIRE(limiter.keys("r") <= max_keys);
    }
    CHECK(hot_passed == 0);
    CHECK(flood_refused == 0);
    REQUIRE(limiter.keys("r") <= max_keys);
    CHECK(limiter.keys("r") == max_keys);
    // Not used since the flood began: evicted, so it is full again.
    CHECK(limiter.decide("r", limit, "old", t0).allowed);
}

TEST_CASE("rate limit: a small table evicts exactly the least recently used key", "[rate_limit]") {
    const RateLimit limit = limit_of(0.001, 1, RateLimit::Key::client_ip, 3);
    RateLimiter limiter;
    for (const char* key : {"a", "b", "c"}) CHECK(drain(limiter, "r", limit, key, t0) == 1);
    CHECK_FALSE(limiter.decide("r", limit, "a", t0).allowed);  // a is now the most recent
    CHECK(limiter.decide("r", limit, "d", t0).allowed);        // evicts b
    CHECK(limiter.keys("r") == 3);
    CHECK_FALSE(limiter.decide("r", limit, "a", t0).allowed);
    CHECK_FALSE(limiter.decide("r", limit, "c", t0).allowed);
    CHECK_FALSE(limiter.decide("r", limit, "d", t0).allowed);
    CHECK(limiter.decide("r", limit, "b", t0).allowed);  // back, and full
    CHECK(limiter.keys("r") == 3);
}

TEST_CASE("rate limit: retain drops routes no longer limited and refills those whose limit changed",
          "[rate_limit]") {
    const RateLimit limit = limit_of(1, 2);
    RateLimiter limiter;
    const auto drain_all = [&] {
        for (const char* route : {"kept", "unlimited", "gone", "changed"}) {
            REQUIRE(drain(limiter, route, limit, "k", t0) == 2);
        }
    };
    drain_all();

    SECTION("an unchanged limit keeps its buckets; a route gone or without a limit loses them") {
        limiter.retain({route_of("kept", limit), route_of("unlimited", std::nullopt)});
        CHECK(limiter.keys("kept") == 1);
        CHECK_FALSE(limiter.decide("kept", limit, "k", t0).allowed);
        CHECK(limiter.keys("unlimited") == 0);
        CHECK(limiter.keys("gone") == 0);
        CHECK(limiter.keys("changed") == 0);
        CHECK(limiter.decide("gone", limit, "k", t0).allowed);
    }
    SECTION("a changed rate, burst, key or max_keys refills the route's buckets") {
        RateLimit changed = limit;
        SECTION("rate") {
            changed.requests_per_second = 2;
        }
        SECTION("burst") {
            changed.burst = 3;
        }
        SECTION("key") {
            changed.key = RateLimit::Key::route;
        }
        SECTION("header name") {
            changed.key = RateLimit::Key::header;
            changed.header_name = "x-api-key";
        }
        SECTION("max_keys") {
            changed.max_keys = 10;
        }
        limiter.retain({route_of("kept", limit), route_of("changed", changed)});
        CHECK(limiter.keys("changed") == 0);
        CHECK(limiter.decide("changed", changed, "k", t0).allowed);
        CHECK_FALSE(limiter.decide("kept", limit, "k", t0).allowed);
    }
    SECTION("a limited route the limiter has not seen yet starts with full buckets") {
        limiter.retain({route_of("new", limit)});
        CHECK(limiter.keys("new") == 0);
        CHECK(drain(limiter, "new", limit, "k", t0) == 2);
    }
}

TEST_CASE("rate limit: 4 threads deciding at one instant admit exactly the burst, never more",
          "[rate_limit]") {
    const auto key = GENERATE(RateLimit::Key::client_ip, RateLimit::Key::route);
    const std::size_t burst = 20'000;
    const RateLimit limit = limit_of(1, burst, key);
    RateLimiter limiter;
    std::atomic<bool> go{false};
    std::atomic<std::size_t> passed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            while (!go.load()) std::this_thread::yield();
            std::size_t mine = 0;
            for (std::size_t i = 0; i < burst; ++i) {
                if (limiter.decide("r", limit, "10.0.0.1", t0).allowed) ++mine;
            }
            passed += mine;
        });
    }
    go = true;
    for (auto& thread : threads) thread.join();
    CHECK(passed == burst);
    CHECK(limiter.keys("r") == 1);
}

TEST_CASE("rate limit: RateLimit-Policy and RateLimit values are the draft's structured fields",
          "[rate_limit]") {
    CHECK(rate_limit_policy_header("get-account-penalties", limit_of(50, 100)) ==
          "\"get-account-penalties\";q=100;w=2");
    CHECK(rate_limit_policy_header("p", limit_of(0.5, 1)) == "\"p\";q=1;w=2");
    CHECK(rate_limit_policy_header("p", limit_of(3, 1000)) == "\"p\";q=1000;w=334");
    CHECK(rate_limit_policy_header("p", limit_of(0.7, 21)) == "\"p\";q=21;w=30");
    CHECK(rate_limit_policy_header("p", limit_of(1000, 1)) == "\"p\";q=1;w=1");
    CHECK(rate_limit_policy_header("a\"b\\c", limit_of(1, 1)) == "\"a\\\"b\\\\c\";q=1;w=1");

    CHECK(rate_limit_header("get-account-penalties", {false, 0, 20ms}) ==
          "\"get-account-penalties\";r=0;t=1");
    CHECK(rate_limit_header("p", {true, 5, 0ms}) == "\"p\";r=5;t=0");
    CHECK(rate_limit_header("p", {true, 0, 2000ms}) == "\"p\";r=0;t=2");
    CHECK(rate_limit_header("p", {false, 0, 2500ms}) == "\"p\";r=0;t=3");
    CHECK(rate_limit_header("p", {false, 0, 0ms}) == "\"p\";r=0;t=1");
}
