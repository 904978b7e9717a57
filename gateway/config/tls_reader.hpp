#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/tls_config.hpp"
#include "config/yaml_reader.hpp"

namespace gateway {

/// What reading the `tls:` blocks leaves besides the contexts: every file they read (the
/// config watcher follows them, so a rotated certificate reloads) and a digest of all their
/// bytes (a reload with the same routes.yaml but a new certificate is still a new config).
struct TlsFilesRead {
    std::vector<std::string> files;
    std::string digest;
};

/// routes.yaml `tls:`: certificates (the first the default, the others chosen by SNI),
/// min_version, client_ca. File paths are relative to `base_dir`, the file's directory.
std::shared_ptr<const ServerTls> read_server_tls(YamlReader& reader, const YAML::Node& node,
                                                 const std::filesystem::path& base_dir,
                                                 TlsFilesRead& read);

/// An upstream's `tls:` (`where`: "upstream 'NAME'"): ca, server_name, cert, key, verify.
std::shared_ptr<const UpstreamTls> read_upstream_tls(YamlReader& reader, const YAML::Node& node,
                                                     const std::filesystem::path& base_dir,
                                                     const std::string& where,
                                                     TlsFilesRead& read);

}  // namespace gateway
