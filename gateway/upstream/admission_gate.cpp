#include "upstream/admission_gate.hpp"

#include <algorithm>

namespace gateway {

void AdmissionGate::subscribe(const void* owner, Wake wake) {
    const std::lock_guard lock(mutex_);
    subscribers_.emplace_back(owner, std::move(wake));
}

void AdmissionGate::unsubscribe(const void* owner) {
    const std::lock_guard lock(mutex_);
    std::erase_if(subscribers_, [owner](const auto& entry) { return entry.first == owner; });
}

void AdmissionGate::wake_another(const void* self) {
    const std::lock_guard lock(mutex_);
    for (std::size_t tried = 0; tried < subscribers_.size(); ++tried) {
        auto& [owner, wake] = subscribers_[next_++ % subscribers_.size()];
        if (owner == self) continue;
        wake();
        return;
    }
}

}  // namespace gateway
