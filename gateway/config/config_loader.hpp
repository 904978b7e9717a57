#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/diagnostic.hpp"

namespace gateway {

/// Command-line settings that override what routes.yaml says.
struct ConfigOverrides {
    /// `--upstream NAME=HOST:PORT`, repeatable: replaces the named upstream's endpoints.
    std::map<std::string, std::vector<Endpoint>> upstream_endpoints;
    /// `--upstream-timeout-ms N`: every upstream's request timeout.
    std::optional<std::chrono::milliseconds> upstream_request_timeout;
    /// `--listen-tls`: the config must have a `tls:` section to serve it with (a reload that
    /// drops it is refused, like any other broken config).
    bool tls_listener = false;
};

struct LoadResult {
    std::shared_ptr<const Config> config;  // null when there is any diagnostic
    std::vector<Diagnostic> diagnostics;
    /// What loads but an operator should know before it ships (printed, never fatal).
    std::vector<Diagnostic> warnings{};
};

/// Reads routes.yaml and the schemas it names into a Config, or reports every problem it
/// finds with file:line:col. Nothing is half-loaded: one diagnostic and there is no config.
/// The only user of yaml-cpp; exceptions stay inside.
LoadResult load_config(const std::string& path, const ConfigOverrides& overrides = {});

/// load_config, then resolve_endpoints: what the gateway serves from. A name that does not
/// resolve is a diagnostic like any other.
LoadResult load_serving_config(const std::string& path, const ConfigOverrides& overrides = {});

/// The same for YAML already in memory: `display_name` is what diagnostics call the file,
/// `base_dir` where schema paths start.
LoadResult load_config_text(std::string_view text, const std::string& display_name,
                            const std::filesystem::path& base_dir,
                            const ConfigOverrides& overrides = {});

/// Parses `HOST:PORT` (IPv6 as `[::1]:PORT`).
std::optional<Endpoint> parse_endpoint(std::string_view text);

}  // namespace gateway
