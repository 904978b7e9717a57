#pragma once

#include <yaml-cpp/yaml.h>

#include <memory>

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

namespace gateway {

/// routes.yaml `tracing:` (otlp_endpoint, service_name, sampling_ratio,
/// respect_parent_sampling, max_queue_spans). Null after reporting what is wrong.
std::shared_ptr<const TracingConfig> read_tracing(YamlReader& reader, const YAML::Node& node);

}  // namespace gateway
