#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "config/config_store.hpp"
#include "observe/access_log.hpp"
#include "server/worker.hpp"

namespace gateway {

/// Runs the workers and steers them from signals and the config file. SIGHUP, or a change of
/// the file on disk, reloads the config: checked in full first, then pushed to every worker; a
/// config that fails the checks is logged and not applied. The first SIGTERM or SIGINT drains
/// (stop accepting, finish what is in flight, close idle connections, Connection: close
/// meanwhile) until the last request is answered or `drain_timeout` passes; a second signal
/// stops at once. SIGUSR1 reopens the access log. The certificate and key files of `tls:`
/// are watched like the config itself, so a rotated certificate is a reload too.
class Lifecycle {
public:
    /// `access_log` may be null; when given, SIGUSR1 reopens it (log rotation) and every
    /// applied reload writes a line listing the new routes.
    Lifecycle(std::chrono::milliseconds drain_timeout, ConfigStore& store, AccessLog* access_log)
        : drain_timeout_(drain_timeout), store_(store), access_log_(access_log) {}

    /// Called with each config once every worker serves it (on the control thread): what
    /// the process keeps besides the workers follows it (health checks, shared state).
    void on_config_applied(std::function<void(const std::shared_ptr<const Config>&)> hook) {
        on_applied_ = std::move(hook);
    }

    /// Set from the first signal on; the admin endpoint's /readyz reads it.
    const std::atomic<bool>& draining() const noexcept { return draining_; }
    /// Once run() has returned: when the drain must be over (its start plus the drain timeout;
    /// now if it never began), what is left of it for the work after the workers (the spans).
    std::chrono::steady_clock::time_point drain_deadline() const noexcept { return drain_deadline_; }

    /// Starts one thread per worker and blocks until all have ended. Signal handling is in
    /// place before it returns control to anyone, so call it only after printing readiness
    /// from `on_ready`. Answers the exit code: 0 after a drain, 1 when stopped by a second
    /// signal or the drain deadline.
    int run(std::vector<std::unique_ptr<Worker>>& workers, const std::function<void()>& on_ready);

private:
    /// Answers the config in force afterwards (the old one when the new one failed).
    std::shared_ptr<const Config> reload(std::vector<std::unique_ptr<Worker>>& workers);

    std::chrono::milliseconds drain_timeout_;
    ConfigStore& store_;
    AccessLog* access_log_;
    std::function<void(const std::shared_ptr<const Config>&)> on_applied_;
    std::atomic<bool> draining_{false};
    std::chrono::steady_clock::time_point drain_deadline_{};
};

}  // namespace gateway
