#include "config/schema_store.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>

#include "config/spelling.hpp"
#include "core/text.hpp"

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

constexpr std::string_view kJsonTypes[] = {"array",  "boolean", "integer", "null",
                                           "number", "object",  "string"};

bool is_json_type(const rapidjson::Value& value) {
    if (!value.IsString()) return false;
    const std::string_view name(value.GetString(), value.GetStringLength());
    return std::find(std::begin(kJsonTypes), std::end(kJsonTypes), name) != std::end(kJsonTypes);
}

// The first `type` that names no JSON Schema type, as a JSON pointer ("#/properties/a/type"):
// RapidJSON's validator ignores such a type, so the schema would check less than it says.
// Only schema positions are walked (not `enum` or `default` values, which are data).
std::string find_bad_type(const rapidjson::Value& schema, const std::string& pointer,
                          const rapidjson::Value*& bad) {
    if (!schema.IsObject()) return {};
    if (const auto type = schema.FindMember("type"); type != schema.MemberEnd()) {
        if (type->value.IsArray()) {
            for (rapidjson::SizeType i = 0; i < type->value.Size(); ++i) {
                if (!is_json_type(type->value[i])) {
                    bad = &type->value[i];
                    return pointer + "/type/" + std::to_string(i);
                }
            }
        } else if (!is_json_type(type->value)) {
            bad = &type->value;
            return pointer + "/type";
        }
    }
    for (const auto& member : schema.GetObject()) {
        const std::string key(member.name.GetString(), member.name.GetStringLength());
        const std::string here = pointer + "/" + key;
        std::string found;
        if (key == "properties" || key == "patternProperties" || key == "definitions" ||
            key == "dependencies") {
            if (!member.value.IsObject()) continue;
            for (const auto& named : member.value.GetObject()) {
                found = find_bad_type(named.value, here + "/" + named.name.GetString(), bad);
                if (!found.empty()) return found;
            }
        } else if (key == "items" || key == "allOf" || key == "anyOf" || key == "oneOf") {
            if (member.value.IsArray()) {
                for (rapidjson::SizeType i = 0; i < member.value.Size(); ++i) {
                    found = find_bad_type(member.value[i], here + "/" + std::to_string(i), bad);
                    if (!found.empty()) return found;
                }
            } else {
                found = find_bad_type(member.value, here, bad);
            }
        } else if (key == "additionalProperties" || key == "additionalItems" || key == "not") {
            found = find_bad_type(member.value, here, bad);
        }
        if (!found.empty()) return found;
    }
    return {};
}

// A read-only stream over the schema text. RapidJSON reads its own StringStream through a
// local copy while it parses a string or a number, so that stream's Tell() lags in the
// handler; this one has no copy optimisation, so Tell() is always just past the last token.
class TextStream {
public:
    using Ch = char;
    explicit TextStream(const std::string& text) : text_(text) {}
    Ch Peek() const { return at_ < text_.size() ? text_[at_] : '\0'; }
    Ch Take() { return at_ < text_.size() ? text_[at_++] : '\0'; }
    std::size_t Tell() const { return at_; }
    Ch* PutBegin() { return nullptr; }  // never written: the reader parses without kParseInsituFlag
    void Put(Ch) {}
    void Flush() {}
    std::size_t PutEnd(Ch*) { return 0; }

private:
    const std::string& text_;
    std::size_t at_ = 0;
};

// Where each value starts in the text, by JSON pointer: the DOM keeps no offsets, so the text
// is read once more with RapidJSON's SAX reader, which can tell where it is.
class OffsetFinder : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, OffsetFinder> {
public:
    OffsetFinder(const std::string& text, std::string wanted) : text_(text), wanted_(std::move(wanted)) {}

    std::optional<std::size_t> find() {
        rapidjson::Reader reader;
        TextStream stream(text_);
        stream_ = &stream;
        reader.Parse(stream, *this);
        return found_;
    }

    bool Default() { return value(); }
    bool String(const char*, rapidjson::SizeType, bool) { return value(); }
    bool StartObject() { return open(false); }
    bool StartArray() { return open(true); }
    bool Key(const char* name, rapidjson::SizeType length, bool) {
        frames_.back().key.assign(name, length);
        last_end_ = stream_->Tell();
        return true;
    }
    bool EndObject(rapidjson::SizeType) { return close(); }
    bool EndArray(rapidjson::SizeType) { return close(); }

private:
    struct Frame {
        bool array;
        std::size_t index = 0;
        std::string key;
    };

    // Called once a value has been read; its text starts after the previous token's end.
    std::size_t start_of_value() const {
        std::size_t at = last_end_;
        while (at < text_.size() && std::string_view(" \t\r\n:,").find(text_[at]) != std::string_view::npos) ++at;
        return at;
    }
    std::string pointer() const {
        std::string out = "#";
        for (const auto& frame : frames_) {
            out += "/" + (frame.array ? std::to_string(frame.index) : frame.key);
        }
        return out;
    }
    bool value() {
        if (!found_ && pointer() == wanted_) found_ = start_of_value();
        advance();
        return true;
    }
    bool open(bool array) {
        if (!found_ && !frames_.empty() && pointer() == wanted_) found_ = start_of_value();
        frames_.push_back(Frame{array, 0, {}});
        last_end_ = stream_->Tell();
        return true;
    }
    bool close() {
        frames_.pop_back();
        advance();
        return true;
    }
    void advance() {
        last_end_ = stream_->Tell();
        if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
    }

    const std::string& text_;
    std::string wanted_;
    TextStream* stream_ = nullptr;
    std::vector<Frame> frames_;
    std::size_t last_end_ = 0;
    std::optional<std::size_t> found_;
};

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

    const rapidjson::Value* bad_type = nullptr;
    if (auto pointer = find_bad_type(*document, "#", bad_type); !pointer.empty()) {
        const auto offset = OffsetFinder(text, pointer).find();
        const auto& value = *bad_type;
        const std::string got = value.IsString() ? "\"" + std::string(value.GetString()) + "\""
                                                 : std::string("a value that is no string");
        std::string message = "schema '" + display_name + "' at " +
                              (offset ? position_of(text, *offset) + " " : std::string()) + "(" +
                              pointer + "): " + got + " is not a JSON Schema type";
        if (value.IsString()) {
            if (const auto nearest = nearest_word(value.GetString(), kJsonTypes)) {
                message.append("; did you mean \"").append(*nearest).append("\"?");
            }
        }
        return message + " (expected one of: " + join(kJsonTypes) + ")";
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
