#include "pipeline/body_validator.hpp"

#include <boost/container/small_vector.hpp>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/pointer.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/text.hpp"

namespace gateway {
namespace {

using rapidjson::SizeType;
using ObjectKeys = boost::container::small_vector<std::string, 8>;

/// Sits between the reader and the schema validator: remembers what the validator cannot tell
/// us afterwards (the type and text of the value it rejected, the keys of each open object)
/// and refuses duplicated keys and deep nesting, which the validator would let through.
class CheckingHandler {
public:
    explicit CheckingHandler(rapidjson::SchemaValidator& validator) : validator_(validator) {}

    // Each value is only noted as it passes; its text is made when a violation is reported.
    bool Null() { return scalar(Scalar::null, "null") && validator_.Null(); }
    bool Bool(bool b) {
        return scalar(b ? Scalar::yes : Scalar::no, "boolean") && validator_.Bool(b);
    }
    bool Int(int i) { return integer(i) && validator_.Int(i); }
    bool Uint(unsigned u) { return integer(u) && validator_.Uint(u); }
    bool Int64(std::int64_t i) { return integer(i) && validator_.Int64(i); }
    bool Uint64(std::uint64_t u) {
        last_unsigned_ = u;
        return scalar(Scalar::unsigned_integer, "integer") && validator_.Uint64(u);
    }
    bool Double(double d) {
        last_double_ = d;
        return scalar(Scalar::number, "number") && validator_.Double(d);
    }
    bool RawNumber(const char*, SizeType, bool) { return false; }  // not enabled
    bool String(const char* s, SizeType length, bool copy) {
        // Enough of it to quote the first kQuotedBytes exactly as if it were whole: a
        // character starting before the cut is at most 4 bytes long, and one more byte says
        // that there was more.
        last_string_.assign(s, std::min<std::size_t>(length, kQuotedBytes + 4));
        return scalar(Scalar::string, "string") && validator_.String(s, length, copy);
    }
    bool StartObject() {
        if (!open("object")) return false;
        frames_.push_back({});
        return validator_.StartObject();
    }
    bool Key(const char* s, SizeType length, bool copy) {
        const std::string_view key(s, length);
        auto& keys = frames_.back();
        if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
            problem = "duplicate key " + quoted_excerpt(key) +
                      " (backends disagree on which one counts)";
            return false;
        }
        keys.emplace_back(key);
        last_key.assign(key);
        return validator_.Key(s, length, copy);
    }
    bool EndObject(SizeType members) {
        closed_object_keys = std::move(frames_.back());
        frames_.pop_back();
        --depth_;
        last_scalar_ = Scalar::none;
        last_type = "object";
        return validator_.EndObject(members);
    }
    bool StartArray() { return open("array") && validator_.StartArray(); }
    bool EndArray(SizeType elements) {
        --depth_;
        last_scalar_ = Scalar::none;
        last_type = "array";
        return validator_.EndArray(elements);
    }

    /// The text of the last value seen: the value for a scalar, its type for an array or object.
    std::string last_value() const {
        switch (last_scalar_) {
            case Scalar::none: return last_type;
            case Scalar::null: return "null";
            case Scalar::yes: return "true";
            case Scalar::no: return "false";
            case Scalar::signed_integer: return std::to_string(last_signed_);
            case Scalar::unsigned_integer: return std::to_string(last_unsigned_);
            case Scalar::number: return std::to_string(last_double_);
            case Scalar::string: return quoted_excerpt(last_string_, kQuotedBytes);
        }
        return last_type;
    }

    std::string problem;           // set when this handler (not the validator) refused
    const char* last_type = "";    // JSON type of the last value seen
    std::string last_key;          // the last object key seen
    ObjectKeys closed_object_keys;  // keys of the object closed last

private:
    enum class Scalar { none, null, yes, no, signed_integer, unsigned_integer, number, string };
    static constexpr std::size_t kQuotedBytes = 48;

    bool scalar(Scalar kind, const char* type) {
        last_scalar_ = kind;
        last_type = type;
        return true;
    }
    bool integer(std::int64_t value) {
        last_signed_ = value;
        return scalar(Scalar::signed_integer, "integer");
    }
    bool open(const char* type) {
        last_scalar_ = Scalar::none;
        last_type = type;
        if (++depth_ > kMaxBodyDepth) {
            problem = "nested deeper than " + std::to_string(kMaxBodyDepth) + " levels";
            return false;
        }
        return true;
    }

    Scalar last_scalar_ = Scalar::none;
    std::int64_t last_signed_ = 0;
    std::uint64_t last_unsigned_ = 0;
    double last_double_ = 0;
    std::string last_string_;  // the first bytes of the last string value
    rapidjson::SchemaValidator& validator_;
    // The keys of each open object. Inline storage: a body of a few short keys allocates nothing.
    boost::container::small_vector<ObjectKeys, 4> frames_;
    int depth_ = 0;
};

std::string to_text(const rapidjson::Value& value) {
    if (value.IsString()) return std::string(value.GetString(), value.GetStringLength());
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    value.Accept(writer);
    return std::string(buffer.GetString(), buffer.GetSize());
}

std::string join_values(const rapidjson::Value& array, const char* separator) {
    std::string out;
    for (const auto& item : array.GetArray()) {
        if (!out.empty()) out += separator;
        out += to_text(item);
    }
    return out;
}

// What the failing keyword asked for, read from the schema source.
std::string describe_violation(const BodySchema& schema, const rapidjson::SchemaValidator& validator,
                               const CheckingHandler& seen) {
    const std::string keyword = validator.GetInvalidSchemaKeyword();
    const rapidjson::Value* rule = validator.GetInvalidSchemaPointer().Get(schema.source());
    const rapidjson::Value* wanted = nullptr;
    if (rule && rule->IsObject() && rule->HasMember(keyword.c_str())) {
        wanted = &(*rule)[keyword.c_str()];
    }
    const std::string got = seen.last_value();

    if (keyword == "type" && wanted) {
        const std::string expected = wanted->IsArray() ? join_values(*wanted, " or ") : to_text(*wanted);
        return "expected " + expected + ", got " + std::string(seen.last_type);
    }
    if (keyword == "required" && wanted && wanted->IsArray()) {
        std::vector<std::string> missing;
        for (const auto& name : wanted->GetArray()) {
            const std::string text = to_text(name);
            const auto& keys = seen.closed_object_keys;
            if (std::find(keys.begin(), keys.end(), text) == keys.end()) missing.push_back(text);
        }
        return "missing required property " + join(missing);
    }
    if (keyword == "additionalProperties") {
        std::vector<std::string> allowed;
        if (rule && rule->IsObject() && rule->HasMember("properties")) {
            for (const auto& member : (*rule)["properties"].GetObject()) {
                allowed.push_back(to_text(member.name));
            }
        }
        return "unknown property " + quoted_excerpt(seen.last_key) +
               (allowed.empty() ? std::string() : " (allowed: " + join(allowed) + ")");
    }
    if (keyword == "enum" && wanted && wanted->IsArray()) {
        return "expected one of " + join_values(*wanted, ", ") + ", got " + got;
    }
    if (wanted) {
        static const std::pair<const char*, const char*> kPhrases[] = {
            {"minimum", "must be >= "},        {"maximum", "must be <= "},
            {"minLength", "must have at least "}, {"maxLength", "must have at most "},
            {"minItems", "must have at least "}, {"maxItems", "must have at most "},
            {"pattern", "must match the pattern "}, {"multipleOf", "must be a multiple of "},
            {"minProperties", "must have at least "}, {"maxProperties", "must have at most "},
        };
        for (const auto& [name, phrase] : kPhrases) {
            if (keyword != name) continue;
            std::string unit;
            if (keyword == "minLength" || keyword == "maxLength") unit = " characters";
            if (keyword == "minItems" || keyword == "maxItems") unit = " items";
            if (keyword == "minProperties" || keyword == "maxProperties") unit = " properties";
            return phrase + to_text(*wanted) + unit + ", got " + got;
        }
    }
    return "does not satisfy '" + keyword + "' of schema " + schema.file();
}

std::string pointer_text(const rapidjson::Pointer& pointer) {
    rapidjson::StringBuffer buffer;
    pointer.Stringify(buffer);
    return std::string(buffer.GetString(), buffer.GetSize());
}

bool is_ascii(std::string_view bytes) noexcept {
    unsigned char seen = 0;
    for (const char c : bytes) seen |= static_cast<unsigned char>(c);  // no branch: vectorised
    return seen < 0x80;
}

Error body_error(Errc errc, const std::string& where, const std::string& what) {
    return Error{errc, "body" + (where.empty() ? std::string() : " " + where) + ": " + what};
}

}  // namespace

Status validate_body(const BodySchema& schema, std::string_view body) {
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        return body_error(Errc::malformed_json, "", "expected a JSON document, got an empty body");
    }
    rapidjson::SchemaValidator validator(schema.compiled());
    CheckingHandler handler(validator);
    rapidjson::Reader reader;
    rapidjson::MemoryStream stream(body.data(), body.size());
    constexpr unsigned kFlags = rapidjson::kParseIterativeFlag;
    // ASCII, the usual body, is valid UTF-8 as it is: RapidJSON's byte-by-byte check of every
    // string is only needed when some byte is 0x80 or above.
    const rapidjson::ParseResult parsed =
        is_ascii(body) ? reader.Parse<kFlags>(stream, handler)
                       : reader.Parse<kFlags | rapidjson::kParseValidateEncodingFlag>(stream, handler);
    if (parsed) return Ok{};

    const std::string where = pointer_text(validator.GetInvalidDocumentPointer());
    if (parsed.Code() == rapidjson::kParseErrorTermination) {
        if (!handler.problem.empty()) {
            return body_error(Errc::malformed_json, "at offset " + std::to_string(parsed.Offset()),
                              handler.problem);
        }
        if (!validator.IsValid()) {
            return body_error(Errc::invalid_body, where.empty() ? "/" : where,
                              describe_violation(schema, validator, handler));
        }
    }
    std::string what = std::string("not valid JSON at offset ") + std::to_string(parsed.Offset()) +
                       ": " + rapidjson::GetParseError_En(parsed.Code());
    if (!what.empty() && what.back() == '.') what.pop_back();
    if (body.find('\'') != std::string_view::npos) {
        what += " (JSON strings and keys take double quotes, not single quotes)";
    }
    return Error{Errc::malformed_json, "body " + what};
}

}  // namespace gateway
