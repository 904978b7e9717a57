#pragma once

#include <string_view>

#include "test_hooks.hpp"

namespace mock_backend {

/// The mock's own control endpoints under /__mock/, for tests that talk to it directly (the
/// gateway never routes /__mock paths):
///  - GET /__mock/requests     200 {"requests": N}, N = requests received (all threads),
///                             not counting requests to /__mock/*
///  - DELETE /__mock/requests  resets N to 0, 200 {"requests": 0}
/// Anything else under /__mock/ is a 404 (or 405 with Allow) ErrorMessage.

/// True when `target` is under /__mock/ (such requests are never counted).
bool is_control_target(std::string_view target) noexcept;

/// Counts one received request. Thread-safe (an atomic).
void count_request() noexcept;

/// The answer to a request whose target is_control_target(); finalized.
Plan control_plan(const Request& req);

}  // namespace mock_backend
