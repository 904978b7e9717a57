#include "config/body_schema.hpp"

namespace gateway {

BodySchema::BodySchema(std::string file, std::unique_ptr<rapidjson::Document> source,
                       rapidjson::IRemoteSchemaDocumentProvider* remote_documents)
    : file_(std::move(file)),
      source_(std::move(source)),
      compiled_(std::make_unique<rapidjson::SchemaDocument>(*source_, remote_documents)) {}

}  // namespace gateway
