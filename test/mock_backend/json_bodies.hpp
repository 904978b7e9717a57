#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mock_backend {

/// One ComputedPenalty as the penalties backend returns it. subscription_uuid is optional in
/// the real API and only present when the caller asked by UUID.
struct ComputedPenalty {
    std::int64_t id = 0;
    std::int64_t account_id = 0;
    std::int64_t subscription_id = 0;
    std::optional<std::string> subscription_uuid;
    std::string penalty_type;
    double amount = 0.0;
    std::string currency;
    std::string start_date;
    std::string end_date;
    std::string description;
};

/// SubscriptionBlocks for one subscription, holding one block (id 1). For 214748364 this is
/// byte for byte the 145-byte body the benchmarks compare against, so the field order and
/// values here are fixed.
std::string subscription_blocks_json(std::int64_t subscription_id);

/// A JSON array of ComputedPenalty objects.
std::string computed_penalties_json(const std::vector<ComputedPenalty>& penalties);

/// The backends' ErrorMessage shape.
std::string error_message_json(int code, std::string_view status, std::string_view message,
                               std::string_view detail);

/// A valid JSON array of ComputedPenalty objects of at least 3 MiB, built once and shared:
/// the `big` fault exists to exercise the gateway's body limits and streaming, not the mock.
const std::string& big_penalties_json();

}  // namespace mock_backend
