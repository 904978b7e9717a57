#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "config/config.hpp"
#include "upstream/upstream_state.hpp"

namespace gateway {

/// Which endpoint a request (or its retry) goes to, and whether it went there in panic.
struct EndpointChoice {
    std::size_t index = 0;
    /// No endpoint was available (all ejected or failing their health checks): the request
    /// goes to one anyway rather than being refused, as Envoy's panic mode does.
    bool panic = false;
};

/// Picks among `endpoints` those available now (not ejected, not unhealthy), skipping `avoid`
/// (the endpoint a retry comes from) when another is available: in turn for round_robin
/// (`turn` counts the turns, per worker), or the one with fewer requests in flight of two
/// picked at random for least_request (`random`: a fresh random number). With no endpoint
/// available, every endpoint is a candidate (panic).
EndpointChoice pick_endpoint(std::span<const std::shared_ptr<EndpointState>> endpoints,
                             LoadBalancing balancing, std::size_t& turn, std::uint64_t random,
                             SteadyClock::time_point now, std::optional<std::size_t> avoid);

}  // namespace gateway
