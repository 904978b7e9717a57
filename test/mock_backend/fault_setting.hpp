#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "faults.hpp"

namespace mock_backend {

/// A fault applied to every backend request that names none of its own (PUT /__mock/fault):
/// a backend that went bad while its process stays up.
struct FaultSetting {
    Fault fault;
    std::string mode;  // as x-mock-fault spells it ("empty-503", "delay-200"), for reports
};

/// The body of PUT /__mock/fault: exactly {"mode": "MODE"}, MODE anything parse_fault()
/// takes. nullopt for anything else, other keys included.
std::optional<FaultSetting> parse_fault_setting(std::string_view body);

/// {"mode":"empty-503"}, or {"mode":null} when no fault is set.
std::string fault_setting_json(const std::optional<FaultSetting>& setting);

}  // namespace mock_backend
