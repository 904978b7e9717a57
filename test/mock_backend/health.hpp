#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "health_setting.hpp"
#include "test_hooks.hpp"

namespace mock_backend {

/// True when `target`'s path is /health, the endpoint active health checks probe.
bool is_health_target(std::string_view target) noexcept;

/// GET /health: a probe target whose answer tests change at run time, and a count of the
/// probes it received, kept apart from the request counter so that a gateway probing in the
/// background cannot make a test's request count flaky. Thread-safe (atomics only): every
/// thread answers probes, any thread may change the setting.
class HealthEndpoint {
public:
    /// Counts one request to /health, once its head has arrived.
    void count_probe() noexcept { probes_.fetch_add(1, std::memory_order_relaxed); }
    std::uint64_t probes() const noexcept { return probes_.load(std::memory_order_relaxed); }
    void reset_probes() noexcept { probes_.store(0, std::memory_order_relaxed); }

    HealthSetting setting() const noexcept { return setting_.load(std::memory_order_relaxed); }
    void set(HealthSetting setting) noexcept { setting_.store(setting, std::memory_order_relaxed); }

    /// The answer to a request to /health under the current setting; finalized. GET and HEAD
    /// only (others: 405 ErrorMessage with Allow).
    Plan answer(const Request& req) const;

private:
    std::atomic<std::uint64_t> probes_{0};
    std::atomic<HealthSetting> setting_{HealthSetting{}};
    static_assert(std::atomic<HealthSetting>::is_always_lock_free,
                  "every probe reads the setting: it must not take a hidden lock");
};

}  // namespace mock_backend
