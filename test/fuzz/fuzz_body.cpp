// Request bodies against the project's BlockStatus schema and an accept-anything schema.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "project_config.hpp"
#include "pipeline/body_validator.hpp"

namespace {
const gateway::BodySchema& block_status() { return *project_config().routes.at(1).body_schema; }
const gateway::BodySchema& anything() {
    static const gateway::BodySchema schema = [] {
        auto document = std::make_unique<rapidjson::Document>();
        document->Parse("{}");
        return gateway::BodySchema("anything.json", std::move(document), nullptr);
    }();
    return schema;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    const auto strict = gateway::validate_body(block_status(), body);
    const auto loose = gateway::validate_body(anything(), body);
    // A body the strict schema accepts is at least JSON.
    if (strict.ok() && !loose.ok()) __builtin_trap();
    return 0;
}
