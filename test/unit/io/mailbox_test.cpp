#include <catch2/catch.hpp>

#include <utility>  // before Asio's coroutine headers

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "io/mailbox.hpp"

using namespace gateway;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

/// A lock-free context, as a worker's, with a mailbox and a timer that keeps it running until
/// `keep_running` is cancelled (from a task, since nothing else may touch the context).
struct UnsafeContext {
    asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
    Mailbox mailbox{io};
    asio::steady_timer keep_running{io, 10s};

    std::thread run() {
        return std::thread([this] {
            keep_running.async_wait([](const boost::system::error_code&) {});
            mailbox.open();
            io.run();
        });
    }
};

}  // namespace

TEST_CASE("mailbox: tasks posted from other threads run on the context's thread, in order") {
    UnsafeContext context;
    std::thread runner = context.run();
    const auto runner_id = runner.get_id();

    std::vector<int> order;  // touched only on the context's thread
    std::atomic<bool> all_on_runner{true};
    std::vector<std::thread> posters;
    for (int t = 0; t < 4; ++t) {
        posters.emplace_back([&, t] {
            for (int i = 0; i < 100; ++i) {
                context.mailbox.post([&, t, i] {
                    if (std::this_thread::get_id() != runner_id) all_on_runner = false;
                    order.push_back(t * 1000 + i);
                });
            }
        });
    }
    for (auto& poster : posters) poster.join();
    std::promise<std::vector<int>> seen;
    context.mailbox.post([&] {
        seen.set_value(order);
        context.keep_running.cancel();
    });
    auto future = seen.get_future();
    REQUIRE(future.wait_for(5s) == std::future_status::ready);
    const std::vector<int> ran = future.get();
    runner.join();

    CHECK(all_on_runner);
    REQUIRE(ran.size() == 400);
    // Each poster's tasks keep the order they were posted in.
    for (int t = 0; t < 4; ++t) {
        int last = -1;
        for (const int value : ran) {
            if (value / 1000 != t) continue;
            CHECK(value % 1000 == last + 1);
            last = value % 1000;
        }
        CHECK(last == 99);
    }
}

TEST_CASE("mailbox: the doorbell alone does not keep the context running") {
    UnsafeContext context;
    std::thread runner = context.run();
    std::promise<void> cancelled;
    context.mailbox.post([&] {
        context.keep_running.cancel();  // the last real work goes
        cancelled.set_value();
    });
    REQUIRE(cancelled.get_future().wait_for(5s) == std::future_status::ready);
    // run() returns although the mailbox still waits for its next task.
    auto returned = std::async(std::launch::async, [&] { runner.join(); });
    CHECK(returned.wait_for(5s) == std::future_status::ready);
}

TEST_CASE("mailbox: tasks posted before open() run once it is called") {
    UnsafeContext context;
    bool ran = false;
    context.mailbox.post([&] {
        ran = true;
        context.keep_running.cancel();
    });
    std::thread runner = context.run();
    auto returned = std::async(std::launch::async, [&] { runner.join(); });
    REQUIRE(returned.wait_for(5s) == std::future_status::ready);
    CHECK(ran);
}

TEST_CASE("mailbox: a task can stop the context at once, with other work still pending") {
    UnsafeContext context;
    std::thread runner = context.run();
    context.mailbox.post([&] { context.io.stop(); });
    auto returned = std::async(std::launch::async, [&] { runner.join(); });
    CHECK(returned.wait_for(5s) == std::future_status::ready);
    CHECK(context.io.stopped());
}
