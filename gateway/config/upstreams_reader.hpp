#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <vector>

#include "config/config.hpp"
#include "config/tls_reader.hpp"
#include "config/yaml_reader.hpp"

namespace gateway {

/// routes.yaml `upstreams:`, by name: endpoints, timeouts, pool and response sizes, TLS (its
/// files relative to `base_dir`, and noted in `tls_read`). Appends each upstream it can read,
/// so routes that name it are checked against it.
void read_upstreams(YamlReader& reader, const YAML::Node& node, const std::filesystem::path& base_dir,
                    std::vector<UpstreamConfig>& upstreams, TlsFilesRead& tls_read);

/// Why `text` is no HOST:PORT, and how to write it: "write IPv6 addresses in brackets: ...".
std::string endpoint_problem(std::string_view text);

/// A list of HOST:PORT strings (`where` names its owner in messages); the bad ones reported.
std::vector<Endpoint> read_endpoints(YamlReader& reader, const YAML::Node& node,
                                     const std::string& where);

}  // namespace gateway
