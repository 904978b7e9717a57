#pragma once

#include <yaml-cpp/yaml.h>

#include "config/config.hpp"
#include "config/schema_store.hpp"
#include "config/yaml_reader.hpp"

namespace gateway {

/// routes.yaml `routes:`, into `config.routes` and `config.table`. Reads after the limits and
/// upstreams (a route's defaults and upstream come from them); `upstreams_given` is false when
/// the file has no usable `upstreams:`, so routes do not each repeat that one problem.
void read_routes(YamlReader& reader, const YAML::Node& node, SchemaStore& schemas,
                 bool upstreams_given, Config& config);

}  // namespace gateway
