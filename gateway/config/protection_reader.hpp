#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

namespace gateway {

/// The upstream keys that protect a backend: load_balancing, max_in_flight, max_pending,
/// queue_timeout_ms, outlier_detection, health_check, retry_budget_percent. `body` is the
/// upstream's mapping (its keys already checked against the known ones); `where` names it.
void read_upstream_protection(YamlReader& reader, const YAML::Node& body, const std::string& where,
                              UpstreamConfig& upstream);

/// A route's `rate_limit:` mapping; nullopt after reporting what is wrong with it.
std::optional<RateLimit> read_rate_limit(YamlReader& reader, const YAML::Node& node,
                                         const std::string& where);

/// Warns of an outlier_detection whose max_ejected_percent allows no ejection with the
/// upstream's endpoints (once the command line's --upstream endpoints are in place).
void warn_unejectable(YamlReader& reader, const YAML::Node& upstreams_node,
                      const std::vector<UpstreamConfig>& upstreams);

/// `limits.ready_requires_upstreams`, read once the upstreams are known: each name must be one.
void read_ready_requirements(YamlReader& reader, const YAML::Node& limits,
                             const std::vector<UpstreamConfig>& upstreams, Limits& out);

}  // namespace gateway
