#pragma once

#include <string_view>

#include "mock_state.hpp"
#include "test_hooks.hpp"

namespace mock_backend {

/// The mock's own control endpoints under /__mock/, for tests that talk to it directly (the
/// gateway never routes /__mock paths). GET also answers HEAD. "Backend requests" are all
/// requests except those to /health and /__mock/*: the traffic a gateway proxies.
///  - GET /__mock/requests         200 {"requests": N}, backend requests received (all threads)
///  - DELETE /__mock/requests      N back to 0, 200 {"requests": 0}
///  - GET /__mock/health-probes    200 {"probes": N}, requests to /health received
///  - DELETE /__mock/health-probes N back to 0, 200 {"probes": 0}
///  - PUT /__mock/health           body {"status": N} (100..599): /health answers N {"status":
///                                 "DOWN"}; {"fault": "hang"} or {"fault": "close"}: it answers
///                                 nothing. 200 with the new state: {"health":"DOWN",
///                                 "status":503} or {"health":"DOWN","fault":"hang"}
///  - DELETE /__mock/health        back to 200 {"status":"UP"}; 200 {"health":"UP","status":200}
///  - GET /__mock/health           the state, as PUT answers it
///  - PUT /__mock/fault            body {"mode": "MODE"}, MODE any x-mock-fault value: applied
///                                 to every backend request without an x-mock-fault of its own
///                                 (not to /health, not to /__mock/*); 200 {"mode":"MODE"}
///  - DELETE /__mock/fault         clears it, 200 {"mode":null}; GET /__mock/fault: the state
///  - GET /__mock/concurrency      200 {"in_service": X, "waiting": Y, "max_seen": Z,
///                                 "max_concurrency": C, "service_time_ms": D}: see Capacity
///  - DELETE /__mock/concurrency   max_seen back to in_service (0 when idle); the same body
/// A body PUT does not accept is a 400 ErrorMessage saying what it takes. Anything else under
/// /__mock/ is a 404 (or 405 with Allow) ErrorMessage.

/// True when `target` is under /__mock/ (such requests are never counted).
bool is_control_target(std::string_view target) noexcept;

/// The answer to a request whose target is_control_target(); finalized.
Plan control_plan(const Request& req, MockState& state);

}  // namespace mock_backend
