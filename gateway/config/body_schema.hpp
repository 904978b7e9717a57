#pragma once

#include <rapidjson/document.h>
#include <rapidjson/schema.h>

#include <memory>
#include <string>
#include <vector>

namespace gateway {

/// A compiled JSON Schema (draft-04) for request bodies. Compiled once when the config loads,
/// then shared read-only by every worker; validators are made per check.
class BodySchema {
public:
    BodySchema(std::string file, std::unique_ptr<rapidjson::Document> source,
               rapidjson::IRemoteSchemaDocumentProvider* remote_documents);

    const std::string& file() const noexcept { return file_; }
    const rapidjson::SchemaDocument& compiled() const noexcept { return *compiled_; }
    /// The schema as JSON, to look up what a failing keyword asked for ("expected boolean").
    const rapidjson::Document& source() const noexcept { return *source_; }

    /// Schemas this one `$ref`s: the compiled form points into them.
    void keep_alive(std::vector<std::shared_ptr<const BodySchema>> dependencies) {
        dependencies_ = std::move(dependencies);
    }

private:
    std::string file_;
    std::unique_ptr<rapidjson::Document> source_;
    std::unique_ptr<rapidjson::SchemaDocument> compiled_;
    std::vector<std::shared_ptr<const BodySchema>> dependencies_;
};

}  // namespace gateway
