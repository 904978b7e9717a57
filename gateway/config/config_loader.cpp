// The entry points: read the file, parse it, read its three sections in dependency order
// (limits and upstreams before the routes that use them), apply the command line on top.
#include "config/config_loader.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include "config/endpoint_resolver.hpp"
#include "core/text.hpp"
#include "config/limits_reader.hpp"
#include "config/protection_reader.hpp"
#include "config/redis_reader.hpp"
#include "config/routes_reader.hpp"
#include "config/schema_store.hpp"
#include "config/tls_reader.hpp"
#include "config/tracing_reader.hpp"
#include "config/upstreams_reader.hpp"
#include "config/yaml_reader.hpp"
#include "config/yaml_syntax.hpp"

namespace gateway {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kRootKeys[] = {"upstreams", "routes", "limits", "tls", "redis", "tracing"};

// The command line wins over the file; naming an upstream the file lacks is a mistake.
void apply_overrides(YamlReader& reader, const ConfigOverrides& overrides, Config& config) {
    for (const auto& entry : overrides.upstream_endpoints) {
        const std::string& name = entry.first;  // a named copy: clang 14 cannot capture bindings
        const auto it = std::find_if(config.upstreams.begin(), config.upstreams.end(),
                                     [&](const auto& u) { return u.name == name; });
        if (it == config.upstreams.end()) {
            reader.report_unplaced("--upstream", "no upstream named '" + name + "' in " + reader.file());
            continue;
        }
        it->endpoints = entry.second;
    }
    if (overrides.tls_listener && !config.tls && !reader.failed()) {
        reader.report_unplaced("--listen-tls", reader.file() + " has no 'tls:' section with the "
                                               "certificates to serve HTTPS with (tls: "
                                               "{certificates: [{cert: FILE, key: FILE}]})");
    }
    if (overrides.upstream_request_timeout) {
        for (auto& upstream : config.upstreams) {
            upstream.request_timeout = *overrides.upstream_request_timeout;
        }
    }
}

LoadResult load_text(std::string_view text, const std::string& file, const fs::path& base_dir,
                     const ConfigOverrides& overrides, bool resolve_hosts) {
    YamlReader reader(file, text);
    const auto root = parse_yaml(text, reader);
    if (!root) return {nullptr, reader.take_diagnostics()};
    Config config;
    try {
        if (!root->IsMap()) {
            reader.report_at(1, 1, "the file must be a mapping with 'upstreams' and 'routes', got " +
                                       describe(*root));
            return {nullptr, reader.take_diagnostics()};
        }
        reader.expect_map(*root, "the top level", kRootKeys);
        if ((*root)["limits"]) read_limits(reader, (*root)["limits"], config.limits);
        const bool upstreams_given = (*root)["upstreams"] && (*root)["upstreams"].IsMap();
        TlsFilesRead tls_read;
        if ((*root)["tls"]) config.tls = read_server_tls(reader, (*root)["tls"], base_dir, tls_read);
        if ((*root)["redis"]) config.redis = read_redis(reader, (*root)["redis"], resolve_hosts);
        if ((*root)["tracing"]) config.tracing = read_tracing(reader, (*root)["tracing"]);
        if ((*root)["upstreams"]) {
            read_upstreams(reader, (*root)["upstreams"], base_dir, config.upstreams, tls_read);
        } else {
            reader.report_at(1, 1, "missing 'upstreams' (a mapping of upstream names to their "
                                   "endpoints)");
        }
        if ((*root)["limits"] && (*root)["limits"].IsMap()) {
            read_ready_requirements(reader, (*root)["limits"], config.upstreams, config.limits);
        }
        config.tls_files = std::move(tls_read.files);
        config.tls_digest = std::move(tls_read.digest);
        apply_overrides(reader, overrides, config);
        if (upstreams_given) warn_unejectable(reader, (*root)["upstreams"], config.upstreams);
        SchemaStore schemas(base_dir);
        if ((*root)["routes"]) {
            read_routes(reader, (*root)["routes"], schemas, upstreams_given, config);
        } else {
            reader.report_at(1, 1, "missing 'routes' (a list of routes)");
        }
        check_global_limits(reader, *root, config);
    } catch (const YAML::Exception& e) {
        reader.report(e.mark, e.msg);
    }
    config.source_file = file;
    if (!reader.failed() && resolve_hosts) {
        for (auto& problem : resolve_endpoints(config)) {
            reader.report_unplaced(problem.file, std::move(problem.message));
        }
    }
    if (reader.failed()) return {nullptr, reader.take_diagnostics()};
    config.source_hash = fnv1a64_hex(text);
    config.loaded_at = std::chrono::system_clock::now();
    return {std::make_shared<const Config>(std::move(config)), {}, reader.take_warnings()};
}

LoadResult load_file(const std::string& path, const ConfigOverrides& overrides, bool resolve_hosts) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {nullptr, {Diagnostic{path, 0, 0, "cannot open the file"}}};
    std::stringstream text;
    text << in.rdbuf();
    return load_text(text.str(), path, fs::path(path).parent_path(), overrides, resolve_hosts);
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

LoadResult load_config(const std::string& path, const ConfigOverrides& overrides) {
    return load_file(path, overrides, false);
}

LoadResult load_serving_config(const std::string& path, const ConfigOverrides& overrides) {
    return load_file(path, overrides, true);
}

LoadResult load_config_text(std::string_view text, const std::string& display_name,
                            const std::filesystem::path& base_dir,
                            const ConfigOverrides& overrides) {
    return load_text(text, display_name, base_dir, overrides, false);
}

}  // namespace gateway
