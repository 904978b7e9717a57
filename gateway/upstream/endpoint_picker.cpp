#include "upstream/endpoint_picker.hpp"

namespace gateway {
namespace {

constexpr std::size_t kMaxCandidates = 64;  // bounds the stack buffer; more endpoints wrap

}  // namespace

EndpointChoice pick_endpoint(std::span<const std::shared_ptr<EndpointState>> endpoints,
                             LoadBalancing balancing, std::size_t& turn, std::uint64_t random,
                             SteadyClock::time_point now, std::optional<std::size_t> avoid) {
    const std::size_t count = endpoints.size();
    if (count == 1) return {0, !endpoints[0]->available(now)};
    // The candidates: available ones other than `avoid`; then `avoid` alone if it is the only
    // one available; then, in panic, all but `avoid`, or all. The turn rotates over the
    // candidates, not over all endpoints: an ejected endpoint's turns are shared out evenly
    // rather than all falling to its neighbour.
    std::size_t candidates[kMaxCandidates];
    std::size_t found = 0;
    bool avoided_available = false;
    for (std::size_t i = 0; i < count && found < kMaxCandidates; ++i) {
        if (!endpoints[i]->available(now)) continue;
        if (avoid && *avoid == i) {
            avoided_available = true;
            continue;
        }
        candidates[found++] = i;
    }
    bool panic = false;
    if (found == 0 && avoided_available) return {*avoid, false};
    if (found == 0) {
        panic = true;
        for (std::size_t i = 0; i < count && found < kMaxCandidates; ++i) {
            if (!(avoid && *avoid == i)) candidates[found++] = i;
        }
    }
    if (balancing == LoadBalancing::round_robin || found == 1) {
        // A retry takes no turn of its own: it goes to the endpoint after the one that failed,
        // or every retry would shift the rotation back onto the failing endpoint.
        if (avoid) {
            for (std::size_t c = 0; c < found; ++c) {
                if (candidates[c] > *avoid) return {candidates[c], panic};
            }
            return {candidates[0], panic};
        }
        return {candidates[turn++ % found], panic};
    }
    // Power of two choices: two distinct candidates at random, the less busy one wins (the
    // first on a tie, itself random).
    const std::size_t first = static_cast<std::size_t>(random % found);
    const std::size_t second = (first + 1 + static_cast<std::size_t>((random >> 32) % (found - 1))) % found;
    const auto busy = [&](std::size_t c) {
        return endpoints[candidates[c]]->in_flight.load(std::memory_order_relaxed);
    };
    return {candidates[busy(second) < busy(first) ? second : first], panic};
}

}  // namespace gateway
