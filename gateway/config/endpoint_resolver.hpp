#pragma once

#include <vector>

#include "config/config.hpp"
#include "config/diagnostic.hpp"

namespace gateway {

/// Fills every upstream endpoint's numeric `address` (getaddrinfo, first answer), so that no
/// request ever waits on DNS: names are resolved when a config loads, at start-up and on each
/// reload, never on a worker thread. Answers a diagnostic per name that does not resolve.
std::vector<Diagnostic> resolve_endpoints(Config& config);

}  // namespace gateway
