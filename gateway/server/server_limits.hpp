#pragma once

#include <chrono>
#include <cstddef>

namespace gateway {

/// Deadlines and sizes on the client side of the gateway.
struct ServerLimits {
    /// Waiting for (the rest of) a request head, including idle time between keep-alive requests.
    std::chrono::milliseconds header_timeout{60'000};
    std::chrono::milliseconds body_timeout{30'000};
    std::chrono::milliseconds write_timeout{30'000};
    std::size_t header_limit = 16 * 1024;
};

}  // namespace gateway
