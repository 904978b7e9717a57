#include <catch2/catch.hpp>

#include <utility>  // before Asio's coroutine headers

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "io/run_task.hpp"
#include "upstream/admission_queue.hpp"

using namespace gateway;
using gateway::test::keep_result;
using gateway::test::run_task;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

using Admitted = std::optional<Result<InFlightSlot>>;

UpstreamConfig limited(std::size_t max_in_flight, std::size_t max_pending,
                       std::chrono::milliseconds queue_timeout) {
    UpstreamConfig upstream;
    upstream.name = "backend";
    upstream.endpoints.push_back({"10.0.0.1", 8001});
    upstream.max_in_flight = max_in_flight;
    upstream.max_pending = max_pending;
    upstream.queue_timeout = queue_timeout;
    return upstream;
}

/// One upstream's state and, per simulated worker, its queue; every worker runs on `io` here,
/// and counts the tasks other workers post to it.
struct Gate {
    explicit Gate(UpstreamConfig config) : upstream(std::move(config)) {}

    std::shared_ptr<AdmissionQueue> make_queue(int& posts) {
        return std::make_shared<AdmissionQueue>(io.get_executor(), state,
                                                [this, &posts](std::function<void()> task) {
                                                    ++posts;
                                                    asio::post(io, std::move(task));
                                                });
    }
    /// Starts one admit on `queue`; `into` has its answer once it has one.
    void start(AdmissionQueue& queue, Admitted& into) {
        asio::co_spawn(io.get_executor(), keep_result(queue.admit(upstream), into), asio::detached);
    }
    /// Runs what is ready, without waiting for any timer.
    void settle() {
        io.restart();
        io.poll();
    }
    /// Runs `io` until `done` holds, for at most `limit`.
    void run_until(const std::function<bool()>& done, Clock::duration limit = 5s) {
        const auto deadline = Clock::now() + limit;
        io.restart();
        while (!done() && Clock::now() < deadline) io.run_one_for(10ms);
    }

    asio::io_context io;
    UpstreamConfig upstream;
    std::shared_ptr<UpstreamState> state = std::make_shared<UpstreamState>("backend");
};

bool has_slot(const Admitted& admitted) { return admitted && admitted->ok(); }

void check_overloaded(const Admitted& admitted) {
    REQUIRE(admitted);
    REQUIRE_FALSE(admitted->ok());
    const Error& error = admitted->error();
    CHECK(error.errc == Errc::upstream_overloaded);
    REQUIRE(error.headers.size() == 1);
    CHECK(error.headers[0].first == "Retry-After");
    CHECK(error.headers[0].second == "1");
    CHECK(error.detail.find("upstream backend") != std::string::npos);
}

}  // namespace

TEST_CASE("admission queue: under max_in_flight a request has its slot at once") {
    Gate test(limited(2, 0, 1000ms));
    int posts = 0;
    auto queue = test.make_queue(posts);
    {
        auto first = run_task(test.io, queue->admit(test.upstream));
        auto second = run_task(test.io, queue->admit(test.upstream));
        CHECK(first.ok());
        CHECK(second.ok());
        CHECK(test.state->gate().in_flight() == 2);
        CHECK(test.state->gate().pending() == 0);
    }
    CHECK(test.state->gate().in_flight() == 0);
    CHECK(posts == 0);
}

TEST_CASE("admission queue: beyond max_in_flight and max_pending a request is refused at once with Retry-After") {
    Gate test(limited(1, 1, 10'000ms));
    int posts = 0;
    auto queue = test.make_queue(posts);
    Admitted held;
    Admitted waiting;
    Admitted refused;
    test.start(*queue, held);
    test.settle();
    REQUIRE(has_slot(held));
    test.start(*queue, waiting);
    test.settle();
    CHECK_FALSE(waiting);
    CHECK(test.state->gate().pending() == 1);

    const auto started = Clock::now();
    test.start(*queue, refused);
    test.settle();
    CHECK(Clock::now() - started < 1s);
    check_overloaded(refused);
    CHECK(refused->error().detail ==
          "upstream backend has its 1 requests in flight (max_in_flight) and 1 waiting "
          "(max_pending); try again later");
    CHECK(test.state->overflow_queue_full.load() == 1);
    CHECK(test.state->overflow_queue_timeout.load() == 0);
    CHECK_FALSE(waiting);

    held.reset();  // its slot goes to the waiting request
    test.settle();
    REQUIRE(has_slot(waiting));
    CHECK(test.state->gate().in_flight() == 1);
    CHECK(test.state->gate().pending() == 0);
    waiting.reset();
    CHECK(test.state->gate().in_flight() == 0);
}

TEST_CASE("admission queue: with max_pending 0 a request beyond max_in_flight is refused at once") {
    Gate test(limited(1, 0, 10'000ms));
    int posts = 0;
    auto queue = test.make_queue(posts);
    auto held = run_task(test.io, queue->admit(test.upstream));
    REQUIRE(held.ok());
    Admitted refused;
    refused.emplace(run_task(test.io, queue->admit(test.upstream), 1s));
    check_overloaded(refused);
    CHECK(test.state->overflow_queue_full.load() == 1);
    CHECK(test.state->gate().pending() == 0);
}

TEST_CASE("admission queue: waiting requests get the freed slots first come, first served") {
    Gate test(limited(1, 3, 10'000ms));
    int posts = 0;
    auto queue = test.make_queue(posts);
    Admitted held;
    Admitted waiters[3];
    test.start(*queue, held);
    test.settle();
    REQUIRE(has_slot(held));
    for (auto& waiter : waiters) {
        test.start(*queue, waiter);
        test.settle();
    }
    CHECK(test.state->gate().pending() == 3);
    for (auto& waiter : waiters) CHECK_FALSE(waiter);

    held.reset();
    test.settle();
    CHECK(has_slot(waiters[0]));
    CHECK_FALSE(waiters[1]);
    CHECK_FALSE(waiters[2]);
    CHECK(test.state->gate().in_flight() == 1);
    CHECK(test.state->gate().pending() == 2);

    // A newcomer does not overtake those waiting: it queues behind them.
    Admitted newcomer;
    test.start(*queue, newcomer);
    test.settle();
    CHECK_FALSE(newcomer);
    CHECK(test.state->gate().pending() == 3);

    waiters[0].reset();
    test.settle();
    CHECK(has_slot(waiters[1]));
    CHECK_FALSE(waiters[2]);
    waiters[1].reset();
    test.settle();
    CHECK(has_slot(waiters[2]));
    CHECK_FALSE(newcomer);
    waiters[2].reset();
    test.settle();
    CHECK(has_slot(newcomer));
    newcomer.reset();
    CHECK(test.state->gate().in_flight() == 0);
    CHECK(test.state->gate().pending() == 0);
    CHECK(test.state->overflow_queue_full.load() == 0);
    CHECK(test.state->overflow_queue_timeout.load() == 0);
}

TEST_CASE("admission queue: a waiting request gives up after queue_timeout with upstream_overloaded") {
    Gate test(limited(1, 2, 200ms));
    int posts = 0;
    auto queue = test.make_queue(posts);
    Admitted held;
    Admitted waiting;
    test.start(*queue, held);
    test.settle();
    REQUIRE(has_slot(held));
    const auto started = Clock::now();
    test.start(*queue, waiting);
    test.settle();
    CHECK_FALSE(waiting);

    test.run_until([&] { return waiting.has_value(); });
    const auto waited = Clock::now() - started;
    CHECK(waited >= 200ms);
    CHECK(waited < 2s);
    check_overloaded(waiting);
    CHECK(waiting->error().detail ==
          "upstream backend had no free slot of its 1 (max_in_flight) within 200 ms "
          "(queue_timeout_ms); try again later");
    CHECK(test.state->overflow_queue_timeout.load() == 1);
    CHECK(test.state->overflow_queue_full.load() == 0);
    CHECK(test.state->gate().pending() == 0);
    CHECK(test.state->gate().in_flight() == 1);

    // The slot freed later goes back to the gate, not to the request that gave up.
    held.reset();
    test.settle();
    CHECK(test.state->gate().in_flight() == 0);
    auto next = run_task(test.io, queue->admit(test.upstream), 1s);
    CHECK(next.ok());
}

TEST_CASE("admission queue: a slot freed on one worker wakes a request waiting on another") {
    Gate test(limited(1, 2, 10'000ms));
    int posts_a = 0;
    int posts_b = 0;
    auto a = test.make_queue(posts_a);
    auto b = test.make_queue(posts_b);
    Admitted held;
    Admitted waiting;
    test.start(*a, held);
    test.settle();
    REQUIRE(has_slot(held));
    test.start(*b, waiting);
    test.settle();
    CHECK_FALSE(waiting);
    CHECK(test.state->gate().pending() == 1);
    CHECK(posts_b == 0);

    held.reset();  // queue A has no waiter of its own: it gives the slot back and wakes B
    CHECK(posts_b == 1);
    CHECK(posts_a == 0);
    test.settle();
    REQUIRE(has_slot(waiting));
    CHECK(test.state->gate().in_flight() == 1);
    CHECK(test.state->gate().pending() == 0);

    // And back: B's slot, freed with a request waiting on A, goes to A.
    Admitted on_a;
    test.start(*a, on_a);
    test.settle();
    CHECK_FALSE(on_a);
    waiting.reset();
    CHECK(posts_a == 1);
    test.settle();
    REQUIRE(has_slot(on_a));
    on_a.reset();
    CHECK(test.state->gate().in_flight() == 0);
    CHECK(test.state->gate().pending() == 0);
}

TEST_CASE("admission queue: a worker's own waiter takes its freed slot before another worker's") {
    Gate test(limited(1, 2, 10'000ms));
    int posts_a = 0;
    int posts_b = 0;
    auto a = test.make_queue(posts_a);
    auto b = test.make_queue(posts_b);
    Admitted held;
    Admitted on_b;
    Admitted on_a;
    test.start(*a, held);
    test.settle();
    REQUIRE(has_slot(held));
    test.start(*b, on_b);
    test.settle();
    test.start(*a, on_a);
    test.settle();
    CHECK(test.state->gate().pending() == 2);

    held.reset();
    test.settle();
    CHECK(has_slot(on_a));
    CHECK_FALSE(on_b);
    CHECK(posts_b == 0);
    on_a.reset();  // now A has no waiter: B's turn
    test.settle();
    CHECK(has_slot(on_b));
    on_b.reset();
    CHECK(test.state->gate().in_flight() == 0);
    CHECK(test.state->gate().pending() == 0);
}

TEST_CASE("admission queue: a wake that finds its worker's waiters served passes on to a worker still waiting") {
    Gate test(limited(2, 2, 10'000ms));
    int posts_a = 0;
    int posts_b = 0;
    int posts_c = 0;
    auto a = test.make_queue(posts_a);
    auto b = test.make_queue(posts_b);
    auto c = test.make_queue(posts_c);
    Admitted held_a;
    Admitted held_b;
    Admitted on_b;
    Admitted on_c;
    test.start(*a, held_a);
    test.start(*b, held_b);
    test.settle();
    REQUIRE(has_slot(held_a));
    REQUIRE(has_slot(held_b));
    test.start(*b, on_b);  // B subscribes first, so a wake goes to it first
    test.settle();
    test.start(*c, on_c);
    test.settle();
    REQUIRE(test.state->gate().pending() == 2);

    held_a.reset();  // A gives its slot back and wakes B...
    REQUIRE(posts_b == 1);
    held_b.reset();  // ...but before B's thread runs, B's own slot goes to B's waiter
    test.settle();
    CHECK(has_slot(on_b));
    // One slot is free and C's request waits for one: it should have it now, not after
    // queue_timeout.
    CHECK(has_slot(on_c));

    on_b.reset();
    test.settle();
    CHECK(has_slot(on_c));
    on_c.reset();
    CHECK(test.state->gate().in_flight() == 0);
    CHECK(test.state->gate().pending() == 0);
}

TEST_CASE("admission queue: a request whose expected wait exceeds half of queue_timeout_ms is refused at once") {
    // Two slots, 100 ms each lately: a request queued behind k others expects (k + 1) x 50 ms.
    Gate test(limited(2, 10, 250ms));
    int posts = 0;
    auto queue = test.make_queue(posts);
    test.state->gate().record_service(std::chrono::nanoseconds(100ms).count());
    Admitted first, second, queued, queued_behind, refused;
    test.start(*queue, first);
    test.start(*queue, second);
    test.settle();
    REQUIRE(has_slot(first));
    REQUIRE(has_slot(second));
    test.start(*queue, queued);  // expects 50 ms: under 125, so it waits
    test.settle();
    CHECK_FALSE(queued);
    CHECK(test.state->gate().pending() == 1);
    test.start(*queue, queued_behind);  // the next expects 100 ms: it waits too
    test.settle();
    CHECK(test.state->gate().pending() == 2);
    const auto started = Clock::now();
    test.start(*queue, refused);  // 150 ms expected: over half of 250
    test.settle();
    CHECK(Clock::now() - started < 100ms);
    check_overloaded(refused);
    CHECK_THAT(refused->error().detail, Catch::Contains("the wait would be about 150 ms, too long for "
                                                        "queue_timeout_ms 250"));
    CHECK(test.state->overflow_expected_wait.load() == 1);
    CHECK(test.state->overflow_queue_full.load() == 0);
    CHECK(test.state->gate().pending() == 2);
}

TEST_CASE("admission queue: a slot given back records how long it was held") {
    Gate test(limited(1, 0, 100ms));
    int posts = 0;
    auto queue = test.make_queue(posts);
    CHECK(test.state->gate().service_ns() == 0);
    {
        auto slot = run_task(test.io, queue->admit(test.upstream));
        REQUIRE(slot.ok());
        slot.value().started(Clock::now() - 40ms);
    }
    const auto held = std::chrono::nanoseconds(test.state->gate().service_ns());
    CHECK(held >= 40ms);
    CHECK(held < 1s);
}
