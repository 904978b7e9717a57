#pragma once

#include <atomic>
#include <mutex>
#include <optional>

#include "fault_setting.hpp"

namespace mock_backend {

/// The fault PUT /__mock/fault applies to every backend request without an x-mock-fault of
/// its own. Thread-safe. Read on every backend request, so the common case (none set) costs
/// one relaxed load and no lock; only a set fault is copied out under the mutex.
class StandingFault {
public:
    /// The fault to apply now, if any.
    std::optional<Fault> fault() const;

    /// The setting with its mode name, for the control endpoint.
    std::optional<FaultSetting> setting() const;

    /// Sets (or, with nullopt, clears) the fault.
    void set(std::optional<FaultSetting> setting);

private:
    std::atomic<bool> is_set_{false};
    mutable std::mutex mutex_;
    std::optional<FaultSetting> setting_;  // guarded by mutex_
};

}  // namespace mock_backend
