#include <catch2/catch.hpp>

#include <thread>

#include "observe/log_throttle.hpp"

using namespace gateway;
using std::chrono::milliseconds;

TEST_CASE("log throttle: one line per interval, and the next one says how many were held back") {
    LogThrottle throttle(milliseconds(200));
    std::uint64_t suppressed = 99;
    CHECK(throttle.allow(suppressed));
    CHECK(suppressed == 0);
    for (int i = 0; i < 5; ++i) CHECK_FALSE(throttle.allow(suppressed));
    std::this_thread::sleep_for(milliseconds(250));
    CHECK(throttle.allow(suppressed));
    CHECK(suppressed == 5);
    CHECK_FALSE(throttle.allow(suppressed));
}

TEST_CASE("log throttle: threads sharing it get one line between them") {
    LogThrottle throttle(std::chrono::seconds(60));
    std::atomic<int> allowed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            std::uint64_t suppressed = 0;
            for (int i = 0; i < 1000; ++i) allowed += throttle.allow(suppressed) ? 1 : 0;
        });
    }
    for (auto& thread : threads) thread.join();
    CHECK(allowed == 1);
}
