#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string_view>

#include "config/yaml_reader.hpp"

namespace gateway {

/// Parses routes.yaml's text into a tree, or reports why not as one-line diagnostics and
/// answers nothing. Before yaml-cpp runs, the text is scanned for quotes and brackets left
/// open: yaml-cpp accepts an unclosed quote silently (the value swallows the rest of the file)
/// and reports an unclosed bracket where it gives up, lines later, not where it opened.
std::optional<YAML::Node> parse_yaml(std::string_view text, YamlReader& reader);

}  // namespace gateway
