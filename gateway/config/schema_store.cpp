#include "config/schema_store.hpp"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>

namespace gateway {
namespace {

namespace fs = std::filesystem;

// 1-based line and column of a byte offset, for JSON syntax errors in schema files.
std::string position_of(const std::string& text, std::size_t offset) {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return std::to_string(line) + ":" + std::to_string(column);
}

// Keywords from later drafts that RapidJSON's draft-04 validator would silently ignore: a
// schema that uses them would check less than its author believes.
constexpr std::string_view kLaterDraftKeywords[] = {"const", "contains", "propertyNames",
                                                    "if", "then", "else"};

std::string find_unsupported_keyword(const rapidjson::Value& schema, const std::string& pointer) {
    if (!schema.IsObject()) return {};
    for (const auto& member : schema.GetObject()) {
        const std::string key(member.name.GetString(), member.name.GetStringLength());
        for (const auto keyword : kLaterDraftKeywords) {
            if (key == keyword) return pointer + "/" + key;
        }
        const bool holds_named_schemas =
            key == "properties" || key == "patternProperties" || key == "definitions";
        if (holds_named_schemas && member.value.IsObject()) {
            for (const auto& named : member.value.GetObject()) {
                auto found = find_unsupported_keyword(
                    named.value, pointer + "/" + key + "/" + named.name.GetString());
                if (!found.empty()) return found;
            }
        } else if (member.value.IsArray()) {
            for (rapidjson::SizeType i = 0; i < member.value.Size(); ++i) {
                auto found = find_unsupported_keyword(member.value[i],
                                                      pointer + "/" + key + "/" + std::to_string(i));
                if (!found.empty()) return found;
            }
        } else if (member.value.IsObject()) {
            auto found = find_unsupported_keyword(member.value, pointer + "/" + key);
            if (!found.empty()) return found;
        }
    }
    return {};
}

// Hands RapidJSON the schemas a `$ref` names, loading them through the store.
class RefProvider : public rapidjson::IRemoteSchemaDocumentProvider {
public:
    using Loader = std::function<std::shared_ptr<const BodySchema>(const std::string&)>;
    explicit RefProvider(Loader loader) : loader_(std::move(loader)) {}

    const rapidjson::SchemaDocument* GetRemoteDocument(const char* uri,
                                                       rapidjson::SizeType) override {
        // RapidJSON 1.1.0 passes a length one short ("Block.jso"). `uri` points into the
        // schema's null-terminated $ref string, so read the file part up to '#' ourselves.
        std::string_view file(uri);
        file = file.substr(0, file.find('#'));
        auto schema = loader_(std::string(file));
        if (!schema) return nullptr;
        dependencies.push_back(schema);
        return &schema->compiled();
    }

    std::vector<std::shared_ptr<const BodySchema>> dependencies;

private:
    Loader loader_;
};

}  // namespace

std::variant<std::shared_ptr<const BodySchema>, std::string> SchemaStore::load(
    const std::string& file) {
    return load_path(fs::weakly_canonical(base_dir_ / file), file);
}

std::variant<std::shared_ptr<const BodySchema>, std::string> SchemaStore::load_path(
    const fs::path& path, const std::string& display_name) {
    if (const auto it = loaded_.find(path); it != loaded_.end()) return it->second;
    if (std::find(loading_.begin(), loading_.end(), path) != loading_.end()) {
        return "schema '" + display_name + "' references itself through $ref";
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return "schema file '" + display_name + "' not found (looked for " + path.string() + ")";
    std::stringstream contents;
    contents << in.rdbuf();
    const std::string text = contents.str();

    auto document = std::make_unique<rapidjson::Document>();
    document->Parse(text.c_str(), text.size());
    if (document->HasParseError()) {
        return "schema '" + display_name + "' is not valid JSON: " +
               position_of(text, document->GetErrorOffset()) + ": " +
               rapidjson::GetParseError_En(document->GetParseError());
    }
    if (!document->IsObject()) return "schema '" + display_name + "' must be a JSON object";
    if (document->HasMember("$schema")) {
        const auto& version = (*document)["$schema"];
        const std::string draft04 = "http://json-schema.org/draft-04/schema";
        if (!version.IsString() || std::string(version.GetString()).rfind(draft04, 0) != 0) {
            return "schema '" + display_name + "' must be JSON Schema draft-04 (\"$schema\": \"" +
                   draft04 + "#\"), the draft RapidJSON validates";
        }
    }
    if (auto keyword = find_unsupported_keyword(*document, "#"); !keyword.empty()) {
        return "schema '" + display_name + "' uses " + keyword +
               ", which draft-04 does not have (it would be silently ignored)";
    }

    std::string ref_problem;
    loading_.push_back(path);
    RefProvider refs([&](const std::string& uri) -> std::shared_ptr<const BodySchema> {
        auto loaded = load_path(fs::weakly_canonical(path.parent_path() / uri), uri);
        if (auto* error = std::get_if<std::string>(&loaded)) {
            if (ref_problem.empty()) ref_problem = *error;
            return nullptr;
        }
        return std::get<std::shared_ptr<const BodySchema>>(loaded);
    });
    auto schema = std::make_shared<BodySchema>(display_name, std::move(document), &refs);
    loading_.pop_back();
    if (!ref_problem.empty()) {
        return "schema '" + display_name + "': $ref failed: " + ref_problem;
    }
    schema->keep_alive(std::move(refs.dependencies));
    loaded_.emplace(path, schema);
    return std::shared_ptr<const BodySchema>(schema);
}

}  // namespace gateway
