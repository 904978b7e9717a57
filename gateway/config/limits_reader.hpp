#pragma once

#include <yaml-cpp/yaml.h>

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

namespace gateway {

/// routes.yaml `limits:`, the client side's bounds; absent settings keep their defaults.
void read_limits(YamlReader& reader, const YAML::Node& node, Limits& limits);

}  // namespace gateway
