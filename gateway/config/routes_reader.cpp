#include "config/routes_reader.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "config/params_reader.hpp"
#include "config/protection_reader.hpp"
#include "config/spelling.hpp"
#include "core/text.hpp"

namespace gateway {
namespace {

constexpr std::string_view kMethods[] = {"GET",   "HEAD",   "POST",   "PUT",
                                         "PATCH", "DELETE", "OPTIONS"};

bool is_route_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
}

std::string upper_case(std::string text) {
    for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return text;
}

class RouteReader;

/// One route key: its reader, and what to say when a required key is missing. A new key is
/// one function and one line in RouteReader::kKeys.
struct RouteKey {
    std::string_view name;
    bool (RouteReader::*read)(const YAML::Node& value);
    const char* missing;  // null: the key is optional
};

/// Reads one route. The keys are read in table order, since later keys check against earlier
/// ones (path_params against the path, max_body_bytes against the body, the body against the
/// method); a key that fails leaves its field unset and reading goes on.
class RouteReader {
public:
    RouteReader(YamlReader& reader, SchemaStore& schemas, const Config& config,
                bool upstreams_given, std::map<std::string, int>& names)
        : reader_(reader),
          schemas_(schemas),
          config_(config),
          upstreams_given_(upstreams_given),
          names_(names) {}

    std::optional<RouteConfig> read(const YAML::Node& node);

private:
    bool read_name(const YAML::Node& value);
    bool read_method(const YAML::Node& value);
    bool read_path(const YAML::Node& value);
    bool read_path_params(const YAML::Node& value);
    bool read_query(const YAML::Node& value);
    bool read_body(const YAML::Node& value);
    bool read_max_body_bytes(const YAML::Node& value);
    bool read_roles(const YAML::Node& value);
    bool read_upstream(const YAML::Node& value);
    bool read_rewrite(const YAML::Node& value);
    bool read_rate_limit(const YAML::Node& value);
    bool check_enum_values();

    std::optional<PathTemplate> read_template(const YAML::Node& value, const std::string& what);

    static const RouteKey kKeys[];
    static const std::vector<std::string_view>& key_names();

    YamlReader& reader_;
    SchemaStore& schemas_;
    const Config& config_;
    bool upstreams_given_;
    std::map<std::string, int>& names_;  // every route name seen, with its line
    YAML::Node node_;                    // the route being read
    RouteConfig route_;
    std::string where_ = "route";  // "route 'name'" once the name is known
};

const RouteKey RouteReader::kKeys[] = {
    {"name", &RouteReader::read_name, "a unique name: letters, digits, '-', '_', '.'"},
    {"method", &RouteReader::read_method, "GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS"},
    {"path", &RouteReader::read_path, "a path template such as /v2/orgs/{orgId}"},
    {"path_params", &RouteReader::read_path_params, nullptr},
    {"query", &RouteReader::read_query, nullptr},
    {"body", &RouteReader::read_body, nullptr},
    {"max_body_bytes", &RouteReader::read_max_body_bytes, nullptr},
    {"roles", &RouteReader::read_roles, "a list such as [API_KEY]"},
    {"upstream", &RouteReader::read_upstream, "the name of one of the upstreams"},
    {"rewrite", &RouteReader::read_rewrite, nullptr},
    {"rate_limit", &RouteReader::read_rate_limit, nullptr},
};

const std::vector<std::string_view>& RouteReader::key_names() {
    static const std::vector<std::string_view> names = [] {
        std::vector<std::string_view> out;
        for (const auto& key : kKeys) out.push_back(key.name);
        return out;
    }();
    return names;
}

std::optional<RouteConfig> RouteReader::read(const YAML::Node& node) {
    if (!node.IsMap()) {
        reader_.report(node, "route must be a mapping of keys to values, got " + describe(node));
        return std::nullopt;
    }
    // A typo'd key usually also means a missing one: ops see both at once.
    reader_.expect_map(node, "route", key_names());
    node_ = node;
    route_.max_body_bytes = config_.limits.max_body_bytes;
    bool ok = true;
    for (const auto& key : kKeys) {
        const YAML::Node value = node[std::string(key.name)];
        if (value) {
            ok = (this->*key.read)(value) && ok;
        } else if (key.missing) {
            reader_.report(node, where_ + " needs '" + std::string(key.name) + "' (" + key.missing + ")");
            ok = false;
        }
    }
    ok = check_enum_values() && ok;
    if (!ok) return std::nullopt;
    return std::move(route_);
}

bool RouteReader::read_name(const YAML::Node& value) {
    auto text = reader_.read_string(value, "route name");
    if (!text) return false;
    if (!is_route_name(*text)) {
        reader_.report(value, "route name '" + *text + "' may hold only letters, digits, '-', '_', '.'");
        return false;
    }
    const auto [earlier, fresh] = names_.emplace(*text, value.Mark().line + 1);
    if (!fresh) {
        reader_.report(value, "route name '" + *text + "' is used twice (first at line " +
                                  std::to_string(earlier->second) + "); route names must be unique");
        return false;
    }
    route_.name = *text;
    where_ = "route '" + route_.name + "'";
    return true;
}

bool RouteReader::read_method(const YAML::Node& value) {
    auto text = reader_.read_string(value, where_ + " method");
    if (!text) return false;
    if (std::find(std::begin(kMethods), std::end(kMethods), *text) == std::end(kMethods)) {
        const std::string upper = upper_case(*text);
        const bool only_case = std::find(std::begin(kMethods), std::end(kMethods), upper) != std::end(kMethods);
        reader_.report(value, "unknown method '" + *text + "' (expected one of: " + join(kMethods) +
                                  (only_case ? "; methods are upper case: write " + upper
                                             : std::string("; methods are upper case")) + ")");
        return false;
    }
    route_.method = *text;
    return true;
}

std::optional<PathTemplate> RouteReader::read_template(const YAML::Node& value,
                                                       const std::string& what) {
    auto text = reader_.read_string(value, what);
    if (!text) return std::nullopt;
    auto parsed = PathTemplate::parse(*text);
    if (auto* error = std::get_if<PathTemplate::ParseError>(&parsed)) {
        // A quoted scalar's text starts one column after its mark.
        const int shift = static_cast<int>(error->offset) + (value.Tag() == "!" ? 1 : 0);
        reader_.report(value, what + ": " + error->message, shift);
        return std::nullopt;
    }
    return std::get<PathTemplate>(std::move(parsed));
}

bool RouteReader::read_path(const YAML::Node& value) {
    auto parsed = read_template(value, where_ + " path");
    if (!parsed) return false;
    route_.path = std::move(*parsed);
    for (const auto& segment : route_.path.segments()) {
        if (!segment.is_param) continue;
        ParamType type;
        type.kind = segment.kind;
        route_.path_params.push_back({segment.text, type, true});
    }
    return true;
}

bool RouteReader::read_path_params(const YAML::Node& value) {
    return gateway::read_path_params(reader_, value, where_, route_.path_params);
}

bool RouteReader::read_query(const YAML::Node& value) {
    return read_query_params(reader_, value, where_, route_.query_params);
}

// After path_params: an enum in the path is only complete with its values.
bool RouteReader::check_enum_values() {
    bool ok = true;
    for (const auto& param : route_.path_params) {
        if (param.type.kind == ParamKind::enumeration && param.type.allowed_strings.empty()) {
            reader_.report(node_["path"], where_ + ": enum path parameter '" + param.name +
                                              "' needs 'values' under path_params (path_params: {" +
                                              param.name + ": {values: [a, b]}})");
            ok = false;
        }
    }
    return ok;
}

bool RouteReader::read_body(const YAML::Node& value) {
    auto file = reader_.read_string(value, where_ + " body");
    if (!file) return false;
    bool ok = true;
    if (route_.method == "GET" || route_.method == "HEAD") {
        reader_.report(value, where_ + ": a " + route_.method + " route cannot take a body");
        ok = false;
    }
    auto loaded = schemas_.load(*file);
    if (auto* error = std::get_if<std::string>(&loaded)) {
        reader_.report(value, *error, value.Tag() == "!" ? 1 : 0);
        return false;
    }
    route_.body_schema = std::get<std::shared_ptr<const BodySchema>>(loaded);
    return ok;
}

bool RouteReader::read_max_body_bytes(const YAML::Node& value) {
    if (!node_["body"]) {
        reader_.report(value, where_ + ": max_body_bytes needs a 'body' schema (a route without "
                                       "one takes no body at all)");
        return false;
    }
    auto bytes = reader_.read_integer(value, where_ + " max_body_bytes", 0, 1LL << 30);
    if (bytes) route_.max_body_bytes = static_cast<std::size_t>(*bytes);
    return bytes.has_value();
}

bool RouteReader::read_roles(const YAML::Node& value) {
    auto roles = reader_.read_string_list(value, where_ + " roles");
    if (roles) route_.roles = std::move(*roles);
    return roles.has_value();
}

bool RouteReader::read_upstream(const YAML::Node& value) {
    auto name = reader_.read_string(value, where_ + " upstream");
    if (!name) return false;
    const auto& upstreams = config_.upstreams;
    const auto it = std::find_if(upstreams.begin(), upstreams.end(),
                                 [&](const auto& u) { return u.name == *name; });
    if (it != upstreams.end()) {
        route_.upstream_index = static_cast<std::size_t>(it - upstreams.begin());
        return true;
    }
    // Without an upstreams section that one problem is already reported; not once per route.
    if (!upstreams_given_) return false;
    std::vector<std::string_view> known;
    for (const auto& u : upstreams) known.push_back(u.name);
    std::string message = "unknown upstream '" + *name + "'";
    if (const auto nearest = nearest_word(*name, known)) {
        message.append("; did you mean '").append(*nearest).append("'?");
    }
    reader_.report(value, message + " (defined: " + join(known) + ")");
    return false;
}

bool RouteReader::read_rewrite(const YAML::Node& value) {
    auto parsed = read_template(value, where_ + " rewrite");
    if (!parsed) return false;
    bool ok = true;
    const auto names = route_.path.param_names();
    for (const auto& segment : parsed->segments()) {
        if (!segment.is_param) continue;
        if (std::find(names.begin(), names.end(), segment.text) == names.end()) {
            reader_.report(value, where_ + " rewrite uses '{" + segment.text +
                                      "}', which is not a parameter of the path" +
                                      (names.empty() ? std::string(" (the path has none)")
                                                     : " (the path's parameters: " + join(names) + ")"));
            ok = false;
        }
        if (segment.kind != ParamKind::string) {
            reader_.report(value, where_ + " rewrite: write parameters without a type ('{" +
                                      segment.text + "}'); the path declares the type");
            ok = false;
        }
    }
    route_.rewrite = std::move(*parsed);
    return ok;
}

bool RouteReader::read_rate_limit(const YAML::Node& value) {
    route_.rate_limit = gateway::read_rate_limit(reader_, value, where_);
    return route_.rate_limit.has_value();
}

}  // namespace

void read_routes(YamlReader& reader, const YAML::Node& node, SchemaStore& schemas,
                 bool upstreams_given, Config& config) {
    if (!reader.expect_sequence(node, "routes")) return;
    if (node.size() == 0) reader.report(node, "routes must list at least one route");
    std::map<std::string, int> names;
    std::vector<int> lines;  // of config.routes, for clash messages
    for (const auto& item : node) {
        auto route = RouteReader(reader, schemas, config, upstreams_given, names).read(item);
        if (!route) continue;
        const std::size_t index = config.routes.size();
        const auto conflict = config.table.add(route->method, route->path, index);
        if (conflict >= 0) {
            const auto& other = config.routes[static_cast<std::size_t>(conflict)];
            const auto other_line = std::to_string(lines[static_cast<std::size_t>(conflict)]);
            if (other.path.text() == route->path.text()) {
                reader.report(item["path"], "duplicate route: " + route->method + " " +
                                                route->path.text() + " is already defined by route '" +
                                                other.name + "' (line " + other_line + ")");
            } else {
                reader.report(item["path"], "ambiguous route: " + route->method + " " +
                                                route->path.text() + " matches the same paths as " +
                                                other.path.text() + " of route '" + other.name +
                                                "' (line " + other_line + ")");
            }
            continue;
        }
        lines.push_back(item.Mark().line + 1);
        config.routes.push_back(std::move(*route));
    }
}

}  // namespace gateway
