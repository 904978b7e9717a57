#include "standing_fault.hpp"

#include <utility>

namespace mock_backend {

std::optional<Fault> StandingFault::fault() const {
    // A request racing a PUT may still see the old value either way; that is fine for a test,
    // which sets the fault before it sends the requests that should see it.
    if (!is_set_.load(std::memory_order_acquire)) return std::nullopt;
    const std::lock_guard lock{mutex_};
    if (!setting_) return std::nullopt;
    return setting_->fault;
}

std::optional<FaultSetting> StandingFault::setting() const {
    const std::lock_guard lock{mutex_};
    return setting_;
}

void StandingFault::set(std::optional<FaultSetting> setting) {
    const std::lock_guard lock{mutex_};
    is_set_.store(setting.has_value(), std::memory_order_release);
    setting_ = std::move(setting);
}

}  // namespace mock_backend
