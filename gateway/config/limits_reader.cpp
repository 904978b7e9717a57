#include "config/limits_reader.hpp"

namespace gateway {
namespace {

constexpr std::string_view kLimitKeys[] = {"max_body_bytes",    "max_header_bytes",
                                           "header_timeout_ms", "idle_timeout_ms",
                                           "body_timeout_ms",   "max_connections",
                                           "ready_requires_upstreams"};

}  // namespace

void read_limits(YamlReader& reader, const YAML::Node& node, Limits& limits) {
    if (!reader.expect_map(node, "limits", kLimitKeys)) return;
    const std::string where = "limits.";
    // Bounds: a header block under 1 KiB cannot hold a real request's headers; a body over
    // 1 GiB or a million connections is a typo, not a plan.
    reader.read_size(node, "max_body_bytes", where, 0, 1LL << 30, limits.max_body_bytes);
    reader.read_size(node, "max_header_bytes", where, 1024, 1 << 20, limits.max_header_bytes);
    reader.read_size(node, "max_connections", where, 1, 1'000'000, limits.max_connections);
    reader.read_ms(node, "header_timeout_ms", where, limits.header_timeout);
    reader.read_ms(node, "idle_timeout_ms", where, limits.idle_timeout);
    reader.read_ms(node, "body_timeout_ms", where, limits.body_timeout);
}

}  // namespace gateway
