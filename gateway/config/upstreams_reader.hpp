#pragma once

#include <yaml-cpp/yaml.h>

#include <vector>

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

namespace gateway {

/// routes.yaml `upstreams:`, by name: endpoints, timeouts, pool and response sizes. Appends
/// each upstream it can read, so routes that name it are checked against it.
void read_upstreams(YamlReader& reader, const YAML::Node& node,
                    std::vector<UpstreamConfig>& upstreams);

/// Why `text` is no HOST:PORT, and how to write it: "write IPv6 addresses in brackets: ...".
std::string endpoint_problem(std::string_view text);

}  // namespace gateway
