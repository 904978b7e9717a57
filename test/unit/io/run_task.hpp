#pragma once

#include <utility>  // before Asio's coroutine headers

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>

#include "io/executor.hpp"

namespace gateway::test {

/// Awaits `task` and keeps its value (Boost 1.74's co_spawn wants a default-constructible one).
template <typename T>
Task<void> keep_result(Task<T> task, std::optional<T>& result) {
    result.emplace(co_await std::move(task));
}

/// Runs `task` on `io` until it finishes (other handlers run meanwhile) and answers its value,
/// or rethrows what it threw. Throws when it has not finished within `limit`.
template <typename T>
T run_task(boost::asio::io_context& io, Task<T> task,
           std::chrono::steady_clock::duration limit = std::chrono::seconds(10)) {
    std::optional<T> result;
    std::exception_ptr error;
    bool done = false;
    boost::asio::co_spawn(io.get_executor(), keep_result(std::move(task), result),
                          [&](std::exception_ptr e) {
                              error = e;
                              done = true;
                          });
    io.restart();
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done && std::chrono::steady_clock::now() < deadline) {
        io.run_one_for(std::chrono::milliseconds(50));
        if (io.stopped()) io.restart();
    }
    if (!done) throw std::runtime_error("the task did not finish in time");
    if (error) std::rethrow_exception(error);
    return std::move(*result);
}

/// Runs whatever is ready on `io` for `duration` (handlers of operations already started).
inline void run_for(boost::asio::io_context& io, std::chrono::steady_clock::duration duration) {
    io.restart();
    io.run_for(duration);
}

}  // namespace gateway::test
