#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/body_schema.hpp"
#include "config/tls_config.hpp"
#include "routing/param_type.hpp"
#include "routing/path_template.hpp"
#include "routing/route_table.hpp"

namespace gateway {

struct Endpoint {
    std::string host;
    std::uint16_t port = 0;
    std::string address{};  // numeric, filled by resolve_endpoints when the config loads
    /// Which connection pool serves this endpoint: address, port and the upstream's pool
    /// settings (filled with `address`), so a reload that keeps them keeps the pool.
    std::string pool_key{};
    std::string to_string() const { return host + ":" + std::to_string(port); }
};

struct UpstreamConfig {
    std::string name;
    std::vector<Endpoint> endpoints;
    std::chrono::milliseconds connect_timeout{1000};
    std::chrono::milliseconds request_timeout{10000};
    /// Connections per endpoint per worker thread, busy and idle together.
    std::size_t pool_size = 64;
    /// Success bodies up to this size are buffered (and passed on with a Content-Length);
    /// larger ones are streamed to the client as they arrive. Error bodies are read up to it.
    std::size_t response_buffer_bytes = 1024 * 1024;
    /// Response bodies larger than this are refused (502), streamed or not.
    std::size_t max_response_bytes = 64 * 1024 * 1024;
    /// Quote the upstream's error bodies in the client's detailMsg (debugging only: a legacy
    /// backend's error page can hold stack traces and host names). Off: the access log has them.
    bool expose_error_body = false;
    /// `tls:`: connections to it are TLS, verified unless it says otherwise. Null: plain TCP.
    std::shared_ptr<const UpstreamTls> tls;
};

struct NamedParam {
    std::string name;
    ParamType type;
    bool required = true;  // path params are always required
};

struct RouteConfig {
    std::string name;
    std::string method;
    PathTemplate path;
    std::vector<NamedParam> path_params;   // in path order
    std::vector<NamedParam> query_params;  // in config order
    std::shared_ptr<const BodySchema> body_schema;  // null: the route takes no body
    std::size_t max_body_bytes = 1024 * 1024;
    std::vector<std::string> roles;
    std::size_t upstream_index = 0;
    std::optional<PathTemplate> rewrite;
};

/// The client side's limits (routes.yaml `limits:`): every read has a deadline, every buffer
/// a bound.
struct Limits {
    std::size_t max_body_bytes = 1024 * 1024;  // default of routes with a body
    std::size_t max_header_bytes = 16 * 1024;  // request line and headers together
    /// From a request head's first byte to its blank line (cuts slowloris clients).
    std::chrono::milliseconds header_timeout{10'000};
    /// Keep-alive: waiting for the next request's first byte.
    std::chrono::milliseconds idle_timeout{60'000};
    /// Reading a request body, and writing a response.
    std::chrono::milliseconds body_timeout{30'000};
    /// Open client connections per gateway process; more are answered 503 and closed.
    std::size_t max_connections = 10'000;
};

/// One immutable snapshot of routes.yaml and its schemas. Shared read-only by all workers
/// through std::shared_ptr<const Config>; a request keeps the snapshot it started with.
struct Config {
    std::string source_file;
    std::string source_hash;  // FNV-1a 64 of the YAML text, hex: which version is serving
    std::chrono::system_clock::time_point loaded_at;
    Limits limits;
    std::vector<UpstreamConfig> upstreams;
    std::vector<RouteConfig> routes;
    RouteTable table;
    /// `tls:`, what the TLS listener serves; null when routes.yaml has none.
    std::shared_ptr<const ServerTls> tls;
    /// Every certificate, key and CA file the config read (the watcher follows them), and a
    /// digest of their bytes: with source_hash, what tells a rotated certificate apart.
    std::vector<std::string> tls_files;
    std::string tls_digest;
};

}  // namespace gateway
