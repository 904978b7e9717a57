#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "server/worker.hpp"

namespace gateway {

/// Runs the workers and ends them on signals: the first SIGTERM or SIGINT drains (stop
/// accepting, finish what is in flight, close idle connections, Connection: close meanwhile)
/// until the last request is answered or `drain_timeout` passes; a second signal stops at once.
class Lifecycle {
public:
    explicit Lifecycle(std::chrono::milliseconds drain_timeout) : drain_timeout_(drain_timeout) {}

    /// Set from the first signal on; the admin endpoint's /readyz reads it.
    const std::atomic<bool>& draining() const noexcept { return draining_; }

    /// Starts one thread per worker and blocks until all have ended. Signal handling is in
    /// place before it returns control to anyone, so call it only after printing readiness
    /// from `on_ready`. Answers the exit code: 0 after a drain, 1 when stopped by a second
    /// signal or the drain deadline.
    int run(std::vector<std::unique_ptr<Worker>>& workers, const std::function<void()>& on_ready);

private:
    std::chrono::milliseconds drain_timeout_;
    std::atomic<bool> draining_{false};
};

}  // namespace gateway
