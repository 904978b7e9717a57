#include "config/config_loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <span>
#include <limits>
#include <set>
#include <sstream>

#include <rapidjson/error/en.h>

#include "config/endpoint_resolver.hpp"
#include "config/schema_store.hpp"
#include "core/text.hpp"

namespace gateway {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kRootKeys[] = {"upstreams", "routes", "limits"};
constexpr std::string_view kLimitKeys[] = {"max_body_bytes",    "max_header_bytes",
                                           "header_timeout_ms", "idle_timeout_ms",
                                           "body_timeout_ms",   "max_connections"};
constexpr std::string_view kUpstreamKeys[] = {
    "endpoints", "connect_timeout_ms", "request_timeout_ms", "pool_size", "max_response_bytes",
    "response_buffer_bytes", "expose_error_body"};
constexpr std::string_view kRouteKeys[] = {
    "name", "method", "path", "path_params", "query", "body",
    "max_body_bytes", "roles", "upstream", "rewrite"};
constexpr std::string_view kPathParamKeys[] = {"values", "min", "max",
                                                                     "max_length"};
constexpr std::string_view kQueryParamKeys[] = {
    "type", "required", "values", "min", "max", "max_length"};
constexpr std::string_view kMethods[] = {"GET",   "HEAD",   "POST",
                                                              "PUT",   "PATCH",  "DELETE",
                                                              "OPTIONS"};

bool is_route_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
}

// Identifies a config version in /routes and logs; not a security hash.
std::string fnv1a64_hex(std::string_view text) {
    std::uint64_t hash = 14695981039346656037ull;
    for (const char c : text) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 1099511628211ull;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i, hash >>= 4) out[static_cast<std::size_t>(i)] = kHex[hash & 0xF];
    return out;
}

/// Walks the YAML tree and collects diagnostics; each `read_*` answers nothing on a problem
/// (after reporting it) so one pass reports as many problems as it can.
class Loader {
public:
    Loader(std::string file, fs::path base_dir, const ConfigOverrides& overrides,
           bool resolve_hosts)
        : file_(std::move(file)),
          overrides_(overrides),
          resolve_hosts_(resolve_hosts),
          schemas_(std::move(base_dir)) {}

    LoadResult run(std::string_view text);

private:
    void report(const YAML::Mark& mark, std::string message, int column_shift = 0) {
        diagnostics_.push_back(
            {file_, mark.line + 1, mark.column + 1 + column_shift, std::move(message)});
    }
    void report(const YAML::Node& node, std::string message, int column_shift = 0) {
        report(node.Mark(), std::move(message), column_shift);
    }

    /// Reports a node that is not a mapping (answering false: nothing to read), and each
    /// duplicated or unknown key (answering true: reading goes on, so one pass shows ops every
    /// problem; any report fails the load).
    bool expect_map(const YAML::Node& node, std::string_view what,
                    std::span<const std::string_view> allowed);
    bool expect_sequence(const YAML::Node& node, std::string_view what);
    std::optional<std::string> read_string(const YAML::Node& node, std::string_view what);
    std::optional<std::int64_t> read_integer(const YAML::Node& node, std::string_view what,
                                             std::int64_t min, std::int64_t max);
    std::optional<bool> read_bool(const YAML::Node& node, std::string_view what);
    std::optional<std::vector<std::string>> read_string_list(const YAML::Node& node,
                                                            std::string_view what);

    void read_limits(const YAML::Node& node);
    void read_upstreams(const YAML::Node& node);
    void apply_overrides();
    void read_routes(const YAML::Node& node);
    std::optional<RouteConfig> read_route(const YAML::Node& node);
    bool read_constraints(const YAML::Node& node, const std::string& where, ParamType& type);
    std::optional<PathTemplate> read_template(const YAML::Node& node, std::string_view what);

    std::string file_;
    const ConfigOverrides& overrides_;
    bool resolve_hosts_;
    SchemaStore schemas_;
    std::vector<Diagnostic> diagnostics_;
    std::vector<Diagnostic> warnings_;
    Config config_;
    std::vector<int> route_lines_;              // of config_.routes, for clash messages
    std::map<std::string, int> route_names_;    // every route name seen, with its line
};

bool Loader::expect_map(const YAML::Node& node, std::string_view what,
                        std::span<const std::string_view> allowed) {
    if (!node.IsMap()) {
        report(node, std::string(what) + " must be a mapping of keys to values");
        return false;
    }
    std::set<std::string> seen;
    for (const auto& entry : node) {
        const auto key = entry.first.Scalar();
        // yaml-cpp keeps the last of duplicated keys silently; an ops typo must not vanish.
        if (!seen.insert(key).second) {
            report(entry.first, "duplicate key '" + key + "' in " + std::string(what));
        }
        if (!allowed.empty() &&
            std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
            report(entry.first, "unknown key '" + key + "' in " + std::string(what) +
                                    " (expected one of: " + join(allowed) + ")");
        }
    }
    // Reading goes on past unknown keys: one pass should show ops every problem.
    return true;
}

bool Loader::expect_sequence(const YAML::Node& node, std::string_view what) {
    if (node.IsSequence()) return true;
    report(node, std::string(what) + " must be a list");
    return false;
}

std::optional<std::string> Loader::read_string(const YAML::Node& node, std::string_view what) {
    if (!node.IsScalar() || (node.Tag() != "!" && node.Scalar().empty())) {
        report(node, std::string(what) + " must be a non-empty string");
        return std::nullopt;
    }
    if (node.Scalar().empty()) {
        report(node, std::string(what) + " must not be empty");
        return std::nullopt;
    }
    return node.Scalar();
}

std::optional<std::int64_t> Loader::read_integer(const YAML::Node& node, std::string_view what,
                                                 std::int64_t min, std::int64_t max) {
    const std::string text = node.IsScalar() ? node.Scalar() : std::string();
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    // A quoted number ("10") is a string in YAML: refusing it keeps one spelling per setting.
    if (!node.IsScalar() || node.Tag() == "!" || text.empty() || ec != std::errc() ||
        end != text.data() + text.size()) {
        report(node, std::string(what) + " must be an integer, got '" + text + "'");
        return std::nullopt;
    }
    if (value < min || value > max) {
        report(node, std::string(what) + " must be between " + std::to_string(min) + " and " +
                         std::to_string(max) + ", got " + text);
        return std::nullopt;
    }
    return value;
}

std::optional<bool> Loader::read_bool(const YAML::Node& node, std::string_view what) {
    if (node.IsScalar() && node.Tag() != "!") {
        if (node.Scalar() == "true") return true;
        if (node.Scalar() == "false") return false;
    }
    report(node, std::string(what) + " must be true or false");
    return std::nullopt;
}

std::optional<std::vector<std::string>> Loader::read_string_list(const YAML::Node& node,
                                                                 std::string_view what) {
    if (!expect_sequence(node, what)) return std::nullopt;
    if (node.size() == 0) {
        report(node, std::string(what) + " must not be empty");
        return std::nullopt;
    }
    std::vector<std::string> values;
    bool ok = true;
    for (const auto& item : node) {
        auto value = read_string(item, std::string(what) + " entry");
        if (!value) {
            ok = false;
            continue;
        }
        if (std::find(values.begin(), values.end(), *value) != values.end()) {
            report(item, "'" + *value + "' appears twice in " + std::string(what));
            ok = false;
        }
        values.push_back(std::move(*value));
    }
    return ok ? std::optional(std::move(values)) : std::nullopt;
}

void Loader::read_limits(const YAML::Node& node) {
    if (!expect_map(node, "limits", kLimitKeys)) return;
    Limits& limits = config_.limits;
    const auto read_size = [&](const char* key, std::size_t& out, std::int64_t min,
                               std::int64_t max) {
        if (const auto value = node[key]) {
            if (auto number = read_integer(value, std::string("limits.") + key, min, max)) {
                out = static_cast<std::size_t>(*number);
            }
        }
    };
    const auto read_ms = [&](const char* key, std::chrono::milliseconds& out) {
        if (const auto value = node[key]) {
            if (auto ms = read_integer(value, std::string("limits.") + key, 1, 3'600'000)) {
                out = std::chrono::milliseconds(*ms);
            }
        }
    };
    read_size("max_body_bytes", limits.max_body_bytes, 0, 1LL << 30);
    read_size("max_header_bytes", limits.max_header_bytes, 1024, 1 << 20);
    read_size("max_connections", limits.max_connections, 1, 1'000'000);
    read_ms("header_timeout_ms", limits.header_timeout);
    read_ms("idle_timeout_ms", limits.idle_timeout);
    read_ms("body_timeout_ms", limits.body_timeout);
}

void Loader::read_upstreams(const YAML::Node& node) {
    if (!expect_map(node, "upstreams", {})) return;
    if (node.size() == 0) report(node, "upstreams must name at least one upstream");
    for (const auto& entry : node) {
        UpstreamConfig upstream;
        upstream.name = entry.first.Scalar();
        const std::string where = "upstream '" + upstream.name + "'";
        const YAML::Node& body = entry.second;
        if (!expect_map(body, where, kUpstreamKeys)) continue;
        if (const auto endpoints = body["endpoints"]) {
            if (auto texts = read_string_list(endpoints, where + " endpoints")) {
                std::size_t i = 0;
                for (const auto& text : *texts) {
                    if (auto endpoint = parse_endpoint(text)) {
                        upstream.endpoints.push_back(*endpoint);
                    } else {
                        report(endpoints[i], "endpoint '" + text + "' of " + where +
                                                 " must be HOST:PORT with a port from 1 to 65535");
                    }
                    ++i;
                }
            }
        } else {
            report(body, where + " needs 'endpoints' (a list of HOST:PORT)");
        }
        const auto read_ms = [&](const char* key, std::chrono::milliseconds& out) {
            if (const auto value = body[key]) {
                if (auto ms = read_integer(value, where + " " + key, 1, 3'600'000)) {
                    out = std::chrono::milliseconds(*ms);
                }
            }
        };
        read_ms("connect_timeout_ms", upstream.connect_timeout);
        read_ms("request_timeout_ms", upstream.request_timeout);
        if (const auto value = body["pool_size"]) {
            if (auto size = read_integer(value, where + " pool_size", 1, 100'000)) {
                upstream.pool_size = static_cast<std::size_t>(*size);
            }
        }
        if (const auto value = body["max_response_bytes"]) {
            if (auto size = read_integer(value, where + " max_response_bytes", 1024, 1LL << 40)) {
                upstream.max_response_bytes = static_cast<std::size_t>(*size);
            }
        }
        if (const auto value = body["response_buffer_bytes"]) {
            if (auto size = read_integer(value, where + " response_buffer_bytes", 1024, 1LL << 30)) {
                upstream.response_buffer_bytes = static_cast<std::size_t>(*size);
            }
        }
        if (const auto value = body["expose_error_body"]) {
            if (auto expose = read_bool(value, where + " expose_error_body")) {
                upstream.expose_error_body = *expose;
                if (*expose) {
                    warnings_.push_back(
                        {file_, value.Mark().line + 1, value.Mark().column + 1,
                         "warning: " + where + " expose_error_body: true quotes its error bodies "
                         "to clients, which can show them stack traces, internal host names or "
                         "credentials; for debugging only"});
                }
            }
        }
        config_.upstreams.push_back(std::move(upstream));
    }
}

void Loader::apply_overrides() {
    for (const auto& entry : overrides_.upstream_endpoints) {
        const std::string& name = entry.first;  // a named copy: clang 14 cannot capture bindings
        const auto& endpoints = entry.second;
        const auto it = std::find_if(config_.upstreams.begin(), config_.upstreams.end(),
                                     [&](const auto& u) { return u.name == name; });
        if (it == config_.upstreams.end()) {
            diagnostics_.push_back({"--upstream", 0, 0,
                                    "no upstream named '" + name + "' in " + file_});
            continue;
        }
        it->endpoints = endpoints;
    }
    if (overrides_.upstream_request_timeout) {
        for (auto& upstream : config_.upstreams) {
            upstream.request_timeout = *overrides_.upstream_request_timeout;
        }
    }
}

std::optional<PathTemplate> Loader::read_template(const YAML::Node& node, std::string_view what) {
    auto text = read_string(node, what);
    if (!text) return std::nullopt;
    auto parsed = PathTemplate::parse(*text);
    if (auto* error = std::get_if<PathTemplate::ParseError>(&parsed)) {
        // A quoted scalar's text starts one column after its mark.
        const int shift = static_cast<int>(error->offset) + (node.Tag() == "!" ? 1 : 0);
        report(node, std::string(what) + ": " + error->message, shift);
        return std::nullopt;
    }
    return std::get<PathTemplate>(std::move(parsed));
}

bool Loader::read_constraints(const YAML::Node& node, const std::string& where, ParamType& type) {
    bool ok = true;
    const bool integer = is_integer_kind(type.kind);
    const auto forbid = [&](const char* key, const char* why) {
        if (node[key]) {
            std::string message = "'";  // built by appending: GCC 12's -Wrestrict misfires on "'" + s
            message.append(key).append("' does not apply to ").append(where);
            message.append(" (").append(why).append(")");
            report(node[key], std::move(message));
            ok = false;
        }
    };
    if (!integer) {
        forbid("min", "not an integer type");
        forbid("max", "not an integer type");
    }
    if (type.kind != ParamKind::string) forbid("max_length", "not a string");
    if (const auto values = node["values"]) {
        if (integer) {
            if (expect_sequence(values, where + " values") && values.size() > 0) {
                for (const auto& item : values) {
                    auto value = read_integer(item, where + " value",
                                              std::numeric_limits<std::int64_t>::min(),
                                              std::numeric_limits<std::int64_t>::max());
                    if (value) type.allowed_integers.push_back(*value);
                    ok = ok && value.has_value();
                }
            } else {
                ok = false;
            }
        } else if (type.kind == ParamKind::enumeration) {
            auto strings = read_string_list(values, where + " values");
            if (strings) type.allowed_strings = std::move(*strings);
            ok = ok && strings.has_value();
        } else {
            forbid("values", "only enum and integer types take values");
        }
    } else if (type.kind == ParamKind::enumeration) {
        report(node, where + " is an enum and needs 'values'");
        ok = false;
    }
    const std::int64_t lowest = std::numeric_limits<std::int64_t>::min();
    const std::int64_t highest = std::numeric_limits<std::int64_t>::max();
    if (integer && node["min"]) {
        type.min = read_integer(node["min"], where + " min", lowest, highest);
        ok = ok && type.min.has_value();
    }
    if (integer && node["max"]) {
        type.max = read_integer(node["max"], where + " max", lowest, highest);
        ok = ok && type.max.has_value();
    }
    if (type.min && type.max && *type.min > *type.max) {
        report(node["min"], where + " min is greater than max");
        ok = false;
    }
    if (type.kind == ParamKind::string && node["max_length"]) {
        auto length = read_integer(node["max_length"], where + " max_length", 1, 1 << 20);
        if (length) type.max_length = static_cast<std::size_t>(*length);
        ok = ok && length.has_value();
    }
    return ok;
}

std::optional<RouteConfig> Loader::read_route(const YAML::Node& node) {
    if (!node.IsMap()) {
        report(node, "route must be a mapping of keys to values");
        return std::nullopt;
    }
    // A typo'd key usually also means a missing one: ops see both at once.
    expect_map(node, "route", kRouteKeys);
    bool ok = true;
    RouteConfig route;
    const auto require = [&](const char* key) -> YAML::Node {
        YAML::Node value = node[key];
        if (!value) {
            report(node, std::string("route needs '") + key + "'");
            ok = false;
        }
        return value;
    };

    if (const auto name = require("name")) {
        auto text = read_string(name, "route name");
        if (text && !is_route_name(*text)) {
            report(name, "route name '" + *text + "' may hold only letters, digits, '-', '_', '.'");
            text.reset();
        }
        if (text) {
            const auto [earlier, fresh] = route_names_.emplace(*text, name.Mark().line + 1);
            if (!fresh) {
                report(name, "route name '" + *text + "' is used twice (first at line " +
                                 std::to_string(earlier->second) + ")");
                text.reset();
            }
        }
        if (text) route.name = *text;
        ok = ok && text.has_value();
    }
    const std::string where = route.name.empty() ? std::string("route") : "route '" + route.name + "'";

    if (const auto method = require("method")) {
        auto text = read_string(method, where + " method");
        if (text && std::find(std::begin(kMethods), std::end(kMethods), *text) == std::end(kMethods)) {
            report(method, "unknown method '" + *text + "' (expected one of: " + join(kMethods) +
                               "; methods are upper case)");
            text.reset();
        }
        if (text) route.method = *text;
        ok = ok && text.has_value();
    }

    if (const auto path = require("path")) {
        if (auto parsed = read_template(path, where + " path")) {
            route.path = std::move(*parsed);
            for (const auto& segment : route.path.segments()) {
                if (!segment.is_param) continue;
                ParamType type;
                type.kind = segment.kind;
                route.path_params.push_back({segment.text, type, true});
            }
        } else {
            ok = false;
        }
    }

    if (const auto params = node["path_params"]) {
        if (expect_map(params, where + " path_params", {})) {
            for (const auto& entry : params) {
                const std::string name = entry.first.Scalar();
                const auto it = std::find_if(route.path_params.begin(), route.path_params.end(),
                                             [&](const auto& p) { return p.name == name; });
                if (it == route.path_params.end()) {
                    report(entry.first, "path_params names '" + name +
                                            "', which is not a parameter of the path");
                    ok = false;
                    continue;
                }
                const std::string param_where = "path parameter '" + name + "'";
                ok = expect_map(entry.second, param_where, kPathParamKeys) &&
                     read_constraints(entry.second, param_where, it->type) && ok;
            }
        } else {
            ok = false;
        }
    }
    for (const auto& param : route.path_params) {
        if (param.type.kind == ParamKind::enumeration && param.type.allowed_strings.empty() &&
            !route.path.text().empty()) {
            report(node["path"], where + ": enum path parameter '" + param.name +
                                     "' needs 'values' under path_params");
            ok = false;
        }
    }

    if (const auto query = node["query"]) {
        if (expect_map(query, where + " query", {})) {
            for (const auto& entry : query) {
                NamedParam param;
                param.name = entry.first.Scalar();
                param.required = false;
                const std::string param_where = "query parameter '" + param.name + "'";
                const YAML::Node& spec = entry.second;
                if (!expect_map(spec, param_where, kQueryParamKeys)) {
                    ok = false;
                    continue;
                }
                if (!spec["type"]) {
                    report(spec, param_where + " needs 'type' (string, int32, int64, uuid, enum, "
                                               "int32_array or int64_array)");
                    ok = false;
                    continue;
                }
                const auto type_name = read_string(spec["type"], param_where + " type");
                const auto kind = type_name ? param_kind_from_name(*type_name) : std::nullopt;
                if (!kind) {
                    if (type_name) {
                        report(spec["type"], "unknown type '" + *type_name + "' for " +
                                                 param_where + " (expected string, int32, int64, "
                                                 "uuid, enum, int32_array or int64_array)");
                    }
                    ok = false;
                    continue;
                }
                param.type.kind = *kind;
                if (spec["required"]) {
                    const auto required = read_bool(spec["required"], param_where + " required");
                    param.required = required.value_or(false);
                    ok = ok && required.has_value();
                }
                ok = read_constraints(spec, param_where, param.type) && ok;
                route.query_params.push_back(std::move(param));
            }
        } else {
            ok = false;
        }
    }

    route.max_body_bytes = config_.limits.max_body_bytes;
    if (const auto body = node["body"]) {
        if (auto file = read_string(body, where + " body")) {
            if (route.method == "GET" || route.method == "HEAD") {
                report(body, where + ": a " + route.method + " route cannot take a body");
                ok = false;
            }
            auto loaded = schemas_.load(*file);
            if (auto* error = std::get_if<std::string>(&loaded)) {
                report(body, *error, node["body"].Tag() == "!" ? 1 : 0);
                ok = false;
            } else {
                route.body_schema = std::get<std::shared_ptr<const BodySchema>>(loaded);
            }
        } else {
            ok = false;
        }
    }
    if (const auto max_body = node["max_body_bytes"]) {
        if (!node["body"]) {
            report(max_body, where + ": max_body_bytes needs a 'body' schema");
            ok = false;
        } else if (auto value = read_integer(max_body, where + " max_body_bytes", 0, 1LL << 30)) {
            route.max_body_bytes = static_cast<std::size_t>(*value);
        } else {
            ok = false;
        }
    }

    if (const auto roles = require("roles")) {
        auto values = read_string_list(roles, where + " roles");
        if (values) route.roles = std::move(*values);
        ok = ok && values.has_value();
    }

    if (const auto upstream = require("upstream")) {
        if (auto name = read_string(upstream, where + " upstream")) {
            const auto it = std::find_if(config_.upstreams.begin(), config_.upstreams.end(),
                                         [&](const auto& u) { return u.name == *name; });
            if (it == config_.upstreams.end()) {
                std::vector<std::string> known;
                for (const auto& u : config_.upstreams) known.push_back(u.name);
                report(upstream, "unknown upstream '" + *name + "' (defined: " + join(known) + ")");
                ok = false;
            } else {
                route.upstream_index = static_cast<std::size_t>(it - config_.upstreams.begin());
            }
        } else {
            ok = false;
        }
    }

    if (const auto rewrite = node["rewrite"]) {
        if (auto parsed = read_template(rewrite, where + " rewrite")) {
            const auto names = route.path.param_names();
            for (const auto& segment : parsed->segments()) {
                if (!segment.is_param) continue;
                if (std::find(names.begin(), names.end(), segment.text) == names.end()) {
                    report(rewrite, where + " rewrite uses '{" + segment.text +
                                        "}', which is not a parameter of the path");
                    ok = false;
                }
                if (segment.kind != ParamKind::string) {
                    report(rewrite, where + " rewrite: write parameters without a type ('{" +
                                        segment.text + "}'); the path declares the type");
                    ok = false;
                }
            }
            route.rewrite = std::move(*parsed);
        } else {
            ok = false;
        }
    }
    if (!ok) return std::nullopt;
    return route;
}

void Loader::read_routes(const YAML::Node& node) {
    if (!expect_sequence(node, "routes")) return;
    if (node.size() == 0) report(node, "routes must list at least one route");
    for (const auto& item : node) {
        auto route = read_route(item);
        if (!route) continue;
        const std::size_t index = config_.routes.size();
        const auto conflict = config_.table.add(route->method, route->path, index);
        if (conflict >= 0) {
            const auto& other = config_.routes[static_cast<std::size_t>(conflict)];
            const auto other_line = std::to_string(route_lines_[static_cast<std::size_t>(conflict)]);
            if (other.path.text() == route->path.text()) {
                report(item["path"], "duplicate route: " + route->method + " " +
                                         route->path.text() + " is already defined by route '" +
                                         other.name + "' (line " + other_line + ")");
            } else {
                report(item["path"], "ambiguous route: " + route->method + " " +
                                         route->path.text() + " matches the same paths as " +
                                         other.path.text() + " of route '" + other.name +
                                         "' (line " + other_line + ")");
            }
            continue;
        }
        route_lines_.push_back(item.Mark().line + 1);
        config_.routes.push_back(std::move(*route));
    }
}

LoadResult Loader::run(std::string_view text) {
    YAML::Node root;
    try {
        root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
        report(e.mark, "YAML syntax error: " + e.msg);
        return {nullptr, std::move(diagnostics_)};
    }
    try {
        if (!root.IsMap()) {
            diagnostics_.push_back({file_, 1, 1, "the file must be a mapping with 'upstreams' "
                                                 "and 'routes'"});
            return {nullptr, std::move(diagnostics_)};
        }
        expect_map(root, "the top level", kRootKeys);
        if (root["limits"]) read_limits(root["limits"]);
        if (root["upstreams"]) {
            read_upstreams(root["upstreams"]);
        } else {
            diagnostics_.push_back({file_, 1, 1, "missing 'upstreams'"});
        }
        apply_overrides();
        if (root["routes"]) {
            read_routes(root["routes"]);
        } else {
            diagnostics_.push_back({file_, 1, 1, "missing 'routes'"});
        }
    } catch (const YAML::Exception& e) {
        report(e.mark, e.msg);
    }
    config_.source_file = file_;
    if (diagnostics_.empty() && resolve_hosts_) {
        for (auto& problem : resolve_endpoints(config_)) diagnostics_.push_back(std::move(problem));
    }
    if (!diagnostics_.empty()) return {nullptr, std::move(diagnostics_)};
    config_.source_hash = fnv1a64_hex(text);
    config_.loaded_at = std::chrono::system_clock::now();
    return {std::make_shared<const Config>(std::move(config_)), {}, std::move(warnings_)};
}

}  // namespace

std::optional<Endpoint> parse_endpoint(std::string_view text) {
    std::string_view host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const std::size_t colon = text.rfind(':');
        if (colon == std::string_view::npos) return std::nullopt;
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) return std::nullopt;
    }
    unsigned number = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (host.empty() || port.empty() || ec != std::errc() || end != port.data() + port.size() ||
        number == 0 || number > 65535) {
        return std::nullopt;
    }
    return Endpoint{std::string(host), static_cast<std::uint16_t>(number)};
}

namespace {

LoadResult load_file(const std::string& path, const ConfigOverrides& overrides, bool resolve_hosts) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {nullptr, {Diagnostic{path, 0, 0, "cannot open the file"}}};
    std::stringstream text;
    text << in.rdbuf();
    return Loader(path, fs::path(path).parent_path(), overrides, resolve_hosts).run(text.str());
}

}  // namespace

LoadResult load_config(const std::string& path, const ConfigOverrides& overrides) {
    return load_file(path, overrides, false);
}

LoadResult load_serving_config(const std::string& path, const ConfigOverrides& overrides) {
    return load_file(path, overrides, true);
}

LoadResult load_config_text(std::string_view text, const std::string& display_name,
                            const std::filesystem::path& base_dir,
                            const ConfigOverrides& overrides) {
    return Loader(display_name, base_dir, overrides, false).run(text);
}

}  // namespace gateway
