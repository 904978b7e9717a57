#pragma once

#include <atomic>
#include <cstdint>

#include "capacity.hpp"
#include "health.hpp"
#include "standing_fault.hpp"

namespace mock_backend {

/// Everything the mock's threads share: made once by main, outliving the server, passed to
/// each connection. Each member is thread-safe on its own.
struct MockState {
    explicit MockState(Capacity::Config capacity_config) : capacity{capacity_config} {}

    /// Backend requests received (not /health, not /__mock/*): GET /__mock/requests.
    std::atomic<std::uint64_t> requests{0};
    HealthEndpoint health;
    StandingFault fault;
    Capacity capacity;
};

}  // namespace mock_backend
