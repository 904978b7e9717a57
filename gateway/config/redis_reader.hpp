#pragma once

#include <yaml-cpp/yaml.h>

#include <memory>

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

namespace gateway {

/// routes.yaml `redis:`, the store of the global rate limits. `serving`: the config is about to
/// serve, so a password_env that is not set is an error; for --check (which may run where the
/// secret is not) it is a warning. Null after reporting what is wrong.
std::shared_ptr<const RedisConfig> read_redis(YamlReader& reader, const YAML::Node& node,
                                              bool serving);

/// Once the routes are read: every `scope: global` limit needs a `redis:` section (reported at
/// its `scope:`), and a `redis:` that no limit uses is a warning.
void check_global_limits(YamlReader& reader, const YAML::Node& root, const Config& config);

}  // namespace gateway
