// RedisHealth (gateway/upstream/redis_health.hpp): the breaker in front of Redis, driven with
// synthetic steady_clock time points (never a sleep). Its state changes log to stderr.
#include <catch2/catch.hpp>

#include <chrono>

#include "upstream/redis_health.hpp"

using namespace gateway;
using namespace std::chrono_literals;
using Clock = RedisHealth::Clock;
using State = RedisHealth::State;
using std::chrono::milliseconds;

namespace {

Clock::time_point at(long long ms) { return Clock::time_point{} + milliseconds(ms); }

/// kFailuresToOpen failures in a row at `ms`: the breaker opens there.
void open(RedisHealth& health, long long ms, const std::string& what = "timed out after 5 ms") {
    for (std::uint32_t i = 0; i < RedisHealth::kFailuresToOpen; ++i) health.record_failure(at(ms), what);
}

}  // namespace

TEST_CASE("redis health: the constants the breaker is built on") {
    CHECK(RedisHealth::kFailuresToOpen == 3);
    CHECK(RedisHealth::kFirstInterval == 100ms);
    CHECK(RedisHealth::kMaxInterval == 1000ms);
}

TEST_CASE("redis health: a new breaker is closed and connecting") {
    RedisHealth health;
    CHECK(health.should_ask(at(0)));
    CHECK(health.should_ask(at(1000)));
    const auto view = health.view(at(1000));
    CHECK(view.state == State::connecting);
    CHECK(view.consecutive_failures == 0);
    CHECK(view.next_trial_in == 0ms);
    CHECK(view.interval == 0ms);
    CHECK(view.last_error.empty());
    CHECK(view.state_changes == 0);
}

TEST_CASE("redis health: kFailuresToOpen - 1 failures keep it closed, and a success resets the count") {
    RedisHealth health;
    for (std::uint32_t i = 0; i + 1 < RedisHealth::kFailuresToOpen; ++i) {
        health.record_failure(at(1000 + i), "connection refused");
        CHECK(health.should_ask(at(1000 + i)));
    }
    auto view = health.view(at(1010));
    CHECK(view.state == State::connecting);  // no answer yet, but not open either
    CHECK(view.consecutive_failures == RedisHealth::kFailuresToOpen - 1);
    CHECK(view.last_error == "connection refused");
    CHECK(view.state_changes == 0);

    health.record_success();
    view = health.view(at(1010));
    CHECK(view.state == State::up);
    CHECK(view.consecutive_failures == 0);
    CHECK(view.state_changes == 0);  // closed it was, closed it stays

    // The count starts over: kFailuresToOpen - 1 more still leave it closed...
    for (std::uint32_t i = 0; i + 1 < RedisHealth::kFailuresToOpen; ++i) {
        health.record_failure(at(1020), "timed out after 5 ms");
    }
    CHECK(health.should_ask(at(1020)));
    CHECK(health.view(at(1020)).state == State::up);
    // ...and one more opens it.
    health.record_failure(at(1020), "timed out after 5 ms");
    CHECK_FALSE(health.should_ask(at(1020)));
    CHECK(health.view(at(1020)).state == State::down);
}

TEST_CASE("redis health: kFailuresToOpen failures in a row open it for kFirstInterval") {
    RedisHealth health;
    health.record_failure(at(1000), "timed out after 5 ms");
    health.record_failure(at(1001), "timed out after 5 ms");
    CHECK(health.should_ask(at(1001)));
    health.record_failure(at(1002), "connection refused");

    CHECK_FALSE(health.should_ask(at(1002)));
    CHECK_FALSE(health.should_ask(at(1050)));
    CHECK_FALSE(health.should_ask(at(1101)));  // 99 ms after it opened
    const auto view = health.view(at(1002));
    CHECK(view.state == State::down);
    CHECK(view.consecutive_failures == 3);
    CHECK(view.interval == 100ms);
    CHECK(view.next_trial_in == 100ms);
    CHECK(view.last_error == "connection refused");
    CHECK(view.state_changes == 1);
    CHECK(health.view(at(1052)).next_trial_in == 50ms);
    CHECK(health.view(at(1102)).next_trial_in == 0ms);  // due
    CHECK(health.view(at(5000)).next_trial_in == 0ms);  // overdue: never negative
}

TEST_CASE("redis health: once the interval is up exactly one decision is the trial") {
    RedisHealth health;
    open(health, 1000);
    CHECK_FALSE(health.should_ask(at(1099)));
    CHECK(health.should_ask(at(1100)));  // the trial
    CHECK_FALSE(health.should_ask(at(1100)));
    CHECK_FALSE(health.should_ask(at(1100)));
    CHECK_FALSE(health.should_ask(at(1150)));
    CHECK_FALSE(health.should_ask(at(1199)));
    CHECK(health.view(at(1100)).state == State::down);  // a trial out is no answer yet
    CHECK(health.view(at(1100)).state_changes == 1);
}

TEST_CASE("redis health: a trial that is never answered lets one more through an interval later") {
    RedisHealth health;
    open(health, 1000);
    CHECK(health.should_ask(at(1130)));  // a late first caller: the next interval counts from it
    CHECK_FALSE(health.should_ask(at(1229)));
    CHECK(health.should_ask(at(1230)));
    CHECK_FALSE(health.should_ask(at(1230)));
    CHECK(health.view(at(1230)).interval == 100ms);  // no failure recorded: not lengthened
}

TEST_CASE("redis health: each failed trial doubles the interval up to kMaxInterval") {
    RedisHealth health;
    open(health, 1000);
    long long now = 1100;  // the first trial is due
    const long long expected[] = {200, 400, 800, 1000, 1000, 1000};
    for (const long long interval : expected) {
        INFO("trial at " << now << ", next interval " << interval);
        REQUIRE(health.should_ask(at(now)));
        CHECK_FALSE(health.should_ask(at(now)));
        health.record_failure(at(now + 2), "timed out after 5 ms");  // the trial's answer
        const auto view = health.view(at(now + 2));
        CHECK(view.state == State::down);
        CHECK(view.interval == milliseconds(interval));
        CHECK(view.next_trial_in == milliseconds(interval));
        // The next trial counts from the failure.
        CHECK_FALSE(health.should_ask(at(now + 2 + interval - 1)));
        now += 2 + interval;
    }
    CHECK(health.should_ask(at(now)));
    CHECK(health.view(at(now)).state_changes == 1);  // one opening, however long it lasted
}

TEST_CASE("redis health: failures of decisions under way when it opened do not lengthen it") {
    RedisHealth health;
    open(health, 1000);
    // Decisions that asked before it opened fail too; none of them is a trial.
    for (int i = 0; i < 10; ++i) health.record_failure(at(1001 + i), "timed out after 5 ms");
    auto view = health.view(at(1011));
    CHECK(view.interval == 100ms);
    CHECK(view.next_trial_in == 89ms);  // still due at 1100, not pushed back
    CHECK(view.consecutive_failures == 13);
    CHECK_FALSE(health.should_ask(at(1099)));
    CHECK(health.should_ask(at(1100)));

    // The trial's failure doubles it once; stragglers after it do not double it again.
    health.record_failure(at(1105), "timed out after 5 ms");
    CHECK(health.view(at(1105)).interval == 200ms);
    health.record_failure(at(1106), "timed out after 5 ms");
    health.record_failure(at(1150), "timed out after 5 ms");
    view = health.view(at(1150));
    CHECK(view.interval == 200ms);
    CHECK(view.next_trial_in == 155ms);  // due at 1305, from the trial's failure
    CHECK_FALSE(health.should_ask(at(1304)));
    CHECK(health.should_ask(at(1305)));
    CHECK(view.state_changes == 1);
}

TEST_CASE("redis health: a successful trial closes it") {
    RedisHealth health;
    open(health, 1000);
    REQUIRE(health.should_ask(at(1100)));
    health.record_success();
    CHECK(health.should_ask(at(1101)));
    CHECK(health.should_ask(at(1101)));
    CHECK(health.should_ask(at(1102)));
    const auto view = health.view(at(1101));
    CHECK(view.state == State::up);
    CHECK(view.consecutive_failures == 0);
    CHECK(view.next_trial_in == 0ms);
    CHECK(view.interval == 0ms);
    CHECK(view.state_changes == 2);  // opened, closed
    CHECK(view.last_error == "timed out after 5 ms");  // kept for the operator
}

TEST_CASE("redis health: a success from a decision under way closes it too") {
    RedisHealth health;
    open(health, 1000);
    health.record_success();  // asked before it opened, answered late but answered
    CHECK(health.should_ask(at(1001)));
    CHECK(health.view(at(1001)).state == State::up);
    CHECK(health.view(at(1001)).state_changes == 2);
    health.record_success();  // closed already: no state change
    CHECK(health.view(at(1001)).state_changes == 2);
}

TEST_CASE("redis health: after closing, the next opening starts again at kFirstInterval") {
    RedisHealth health;
    open(health, 1000);
    long long now = 1100;
    for (int i = 0; i < 4; ++i) {  // lengthen it to the cap: 200, 400, 800, 1000
        REQUIRE(health.should_ask(at(now)));
        health.record_failure(at(now), "timed out after 5 ms");
        now += health.view(at(now)).interval.count();
    }
    REQUIRE(health.view(at(now)).interval == 1000ms);
    REQUIRE(health.should_ask(at(now)));
    health.record_success();
    CHECK(health.view(at(now)).state == State::up);

    // kFailuresToOpen - 1 failures: closed still (the count started over at the success).
    health.record_failure(at(now + 10), "connection refused");
    health.record_failure(at(now + 10), "connection refused");
    CHECK(health.should_ask(at(now + 10)));
    health.record_failure(at(now + 10), "ERR max number of clients reached");
    auto view = health.view(at(now + 10));
    CHECK(view.state == State::down);
    CHECK(view.interval == 100ms);
    CHECK(view.next_trial_in == 100ms);
    CHECK(view.last_error == "ERR max number of clients reached");
    CHECK(view.state_changes == 3);  // open, close, open
    CHECK_FALSE(health.should_ask(at(now + 109)));
    CHECK(health.should_ask(at(now + 110)));
    health.record_failure(at(now + 110), "connection refused");
    CHECK(health.view(at(now + 110)).interval == 200ms);  // and doubles from there
}

TEST_CASE("redis health: view goes connecting, then up, then down, then up") {
    RedisHealth health;
    CHECK(health.view(at(0)).state == State::connecting);

    // Failing from the start: down once open, though it never answered.
    RedisHealth never_answered;
    open(never_answered, 500, "connection refused");
    auto view = never_answered.view(at(520));
    CHECK(view.state == State::down);
    CHECK(view.next_trial_in == 80ms);
    CHECK(view.last_error == "connection refused");
    CHECK(view.state_changes == 1);

    health.record_success();
    CHECK(health.view(at(10)).state == State::up);
    CHECK(health.view(at(10)).state_changes == 0);  // connecting -> up is no breaker change
    open(health, 20, "timed out after 5 ms");
    view = health.view(at(45));
    CHECK(view.state == State::down);
    CHECK(view.next_trial_in == 75ms);
    CHECK(view.interval == 100ms);
    CHECK(view.last_error == "timed out after 5 ms");
    CHECK(view.state_changes == 1);
    REQUIRE(health.should_ask(at(120)));
    health.record_success();
    view = health.view(at(121));
    CHECK(view.state == State::up);
    CHECK(view.state_changes == 2);
}

TEST_CASE("redis health: state_changes counts each opening and each closing") {
    RedisHealth health;
    long long now = 1000;
    for (int round = 1; round <= 5; ++round) {
        open(health, now);
        CHECK(health.view(at(now)).state_changes == static_cast<std::uint64_t>(2 * round - 1));
        // More failures while open (and a failed trial) are no change of state.
        health.record_failure(at(now + 1), "timed out after 5 ms");
        REQUIRE(health.should_ask(at(now + 100)));
        health.record_failure(at(now + 100), "timed out after 5 ms");
        CHECK(health.view(at(now + 100)).state_changes == static_cast<std::uint64_t>(2 * round - 1));
        REQUIRE(health.should_ask(at(now + 300)));
        health.record_success();
        CHECK(health.view(at(now + 300)).state_changes == static_cast<std::uint64_t>(2 * round));
        now += 1000;
    }
}
