#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "config/body_schema.hpp"

namespace gateway {

/// Loads and compiles the JSON Schema files a config names, each once, resolving `$ref`s to
/// sibling files. Lives only while one config loads; the compiled schemas keep what they
/// reference alive themselves.
class SchemaStore {
public:
    explicit SchemaStore(std::filesystem::path base_dir) : base_dir_(std::move(base_dir)) {}

    /// `file` relative to the config's directory. Answers the schema or a one-line reason.
    std::variant<std::shared_ptr<const BodySchema>, std::string> load(const std::string& file);

private:
    std::variant<std::shared_ptr<const BodySchema>, std::string> load_path(
        const std::filesystem::path& path, const std::string& display_name);

    std::filesystem::path base_dir_;
    std::map<std::filesystem::path, std::shared_ptr<const BodySchema>> loaded_;
    std::vector<std::filesystem::path> loading_;  // to refuse $ref cycles
};

}  // namespace gateway
