#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

namespace gateway {

/// A route's `path_params:`: constraints on the parameters its path declares (`params`, in
/// path order, as the path template made them). Answers false after reporting a problem.
bool read_path_params(YamlReader& reader, const YAML::Node& node, const std::string& where,
                      std::vector<NamedParam>& params);

/// A route's `query:`: the query parameters it accepts, each with a type and constraints.
bool read_query_params(YamlReader& reader, const YAML::Node& node, const std::string& where,
                       std::vector<NamedParam>& params);

}  // namespace gateway
