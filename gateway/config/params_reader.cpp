#include "config/params_reader.hpp"

#include <algorithm>
#include <limits>

#include "config/spelling.hpp"
#include "core/text.hpp"

namespace gateway {
namespace {

constexpr std::string_view kPathParamKeys[] = {"values", "min", "max", "max_length"};
constexpr std::string_view kQueryParamKeys[] = {"type",   "required", "values",
                                                "min",    "max",      "max_length"};
constexpr std::string_view kQueryTypes[] = {"string", "int32",       "int64",      "uuid",
                                            "enum",   "int32_array", "int64_array"};
constexpr const char* kQueryTypeList =
    "string, int32, int64, uuid, enum, int32_array or int64_array";

/// The constraints (`values`, `min`, `max`, `max_length`) of one parameter, each allowed only
/// where the type can use it: a constraint the type would ignore is an error, not a no-op.
bool read_constraints(YamlReader& reader, const YAML::Node& node, const std::string& where,
                      ParamType& type) {
    bool ok = true;
    const bool integer = is_integer_kind(type.kind);
    const auto forbid = [&](const char* key, const char* why) {
        if (node[key]) {
            std::string message = "'";  // built by appending: GCC 12's -Wrestrict misfires on "'" + s
            message.append(key).append("' does not apply to ").append(where);
            message.append(" (").append(why).append(")");
            reader.report(node[key], std::move(message));
            ok = false;
        }
    };
    if (!integer) {
        forbid("min", "not an integer type");
        forbid("max", "not an integer type");
    }
    if (type.kind != ParamKind::string) forbid("max_length", "not a string");
    const std::int64_t lowest = std::numeric_limits<std::int64_t>::min();
    const std::int64_t highest = std::numeric_limits<std::int64_t>::max();
    if (const auto values = node["values"]) {
        if (integer) {
            if (!reader.expect_sequence(values, where + " values")) {
                ok = false;
            } else if (values.size() == 0) {
                // No value allowed at all would refuse every request; leave `values` out to
                // allow any integer in range.
                reader.report(values, where + " values must not be empty (leave 'values' out "
                                              "to allow any integer)");
                ok = false;
            } else {
                for (const auto& item : values) {
                    auto value = reader.read_integer(item, where + " value", lowest, highest);
                    if (value) type.allowed_integers.push_back(*value);
                    ok = ok && value.has_value();
                }
            }
        } else if (type.kind == ParamKind::enumeration) {
            auto strings = reader.read_string_list(values, where + " values");
            if (strings) type.allowed_strings = std::move(*strings);
            ok = ok && strings.has_value();
        } else {
            forbid("values", "only enum and integer types take values");
        }
    } else if (type.kind == ParamKind::enumeration) {
        reader.report(node, where + " is an enum and needs 'values'");
        ok = false;
    }
    if (integer && node["min"]) {
        type.min = reader.read_integer(node["min"], where + " min", lowest, highest);
        ok = ok && type.min.has_value();
    }
    if (integer && node["max"]) {
        type.max = reader.read_integer(node["max"], where + " max", lowest, highest);
        ok = ok && type.max.has_value();
    }
    if (type.min && type.max && *type.min > *type.max) {
        reader.report(node["min"], where + " min is greater than max (" + std::to_string(*type.min) +
                                          " > " + std::to_string(*type.max) + ")");
        ok = false;
    }
    if (type.kind == ParamKind::string && node["max_length"]) {
        auto length = reader.read_integer(node["max_length"], where + " max_length", 1, 1 << 20);
        if (length) type.max_length = static_cast<std::size_t>(*length);
        ok = ok && length.has_value();
    }
    return ok;
}

// The type of a query parameter, which (unlike a path parameter's) is written as `type:`.
std::optional<ParamKind> read_query_type(YamlReader& reader, const YAML::Node& spec,
                                         const std::string& where) {
    if (!spec["type"]) {
        reader.report(spec, where + " needs 'type' (" + kQueryTypeList + ")");
        return std::nullopt;
    }
    const auto name = reader.read_string(spec["type"], where + " type");
    if (!name) return std::nullopt;
    if (const auto kind = param_kind_from_name(*name)) return kind;
    std::string message = "unknown type '" + *name + "' for " + where;
    if (const auto nearest = nearest_word(*name, kQueryTypes)) {
        message.append("; did you mean '").append(*nearest).append("'?");
    }
    reader.report(spec["type"], message + " (expected " + kQueryTypeList + ")");
    return std::nullopt;
}

}  // namespace

bool read_path_params(YamlReader& reader, const YAML::Node& node, const std::string& where,
                      std::vector<NamedParam>& params) {
    if (!reader.expect_map(node, where + " path_params", {})) return false;
    bool ok = true;
    for (const auto& entry : node) {
        const std::string name = entry.first.Scalar();
        const auto it = std::find_if(params.begin(), params.end(),
                                     [&](const auto& p) { return p.name == name; });
        if (it == params.end()) {
            std::vector<std::string_view> names;
            for (const auto& param : params) names.push_back(param.name);
            std::string message = "path_params names '" + name + "', which is not a parameter of the path";
            if (const auto nearest = nearest_word(name, names)) {
                message.append("; did you mean '").append(*nearest).append("'?");
            }
            message += names.empty() ? std::string(" (the path has no parameters)")
                                     : " (the path's parameters: " + join(names) + ")";
            reader.report(entry.first, std::move(message));
            ok = false;
            continue;
        }
        const std::string param_where = "path parameter '" + name + "'";
        ok = reader.expect_map(entry.second, param_where, kPathParamKeys) &&
             read_constraints(reader, entry.second, param_where, it->type) && ok;
    }
    return ok;
}

bool read_query_params(YamlReader& reader, const YAML::Node& node, const std::string& where,
                       std::vector<NamedParam>& params) {
    if (!reader.expect_map(node, where + " query", {})) return false;
    bool ok = true;
    for (const auto& entry : node) {
        NamedParam param;
        param.name = entry.first.Scalar();
        param.required = false;
        const std::string param_where = "query parameter '" + param.name + "'";
        const YAML::Node& spec = entry.second;
        if (!reader.expect_map(spec, param_where, kQueryParamKeys)) {
            ok = false;
            continue;
        }
        const auto kind = read_query_type(reader, spec, param_where);
        if (!kind) {
            ok = false;
            continue;
        }
        param.type.kind = *kind;
        if (spec["required"]) {
            const auto required = reader.read_bool(spec["required"], param_where + " required");
            param.required = required.value_or(false);
            ok = ok && required.has_value();
        }
        ok = read_constraints(reader, spec, param_where, param.type) && ok;
        params.push_back(std::move(param));
    }
    return ok;
}

}  // namespace gateway
