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
    /// Which connection pool serves this endpoint: the upstream, address, port and its pool
    /// settings (filled with `address`), so a reload that keeps them keeps the pool.
    std::string pool_key{};
    std::string to_string() const { return host + ":" + std::to_string(port); }
};

/// How a request picks one of an upstream's endpoints (`load_balancing:`).
enum class LoadBalancing {
    round_robin,    // in turn
    least_request,  // the less busy of two picked at random (power of two choices)
};

/// `outlier_detection:`: passive ejection, learnt from real traffic. A failure is a refused
/// connection, a reset, a timeout, an invalid answer or a 5xx status.
struct OutlierDetection {
    std::size_t consecutive_failures = 5;
    /// The first ejection's length; each new ejection of the same endpoint doubles it, up to
    /// kMaxEjection (or the base itself when that is longer).
    std::chrono::milliseconds base_ejection{30'000};
    /// Never more than this share of an upstream's endpoints ejected at once.
    std::size_t max_ejected_percent = 50;
    static constexpr std::chrono::milliseconds kMaxEjection{300'000};
};

/// `health_check:`: active probes, `GET path` to each endpoint, once per process.
struct HealthCheck {
    std::string path = "/health";
    std::chrono::milliseconds interval{2000};
    std::chrono::milliseconds timeout{500};
    std::size_t healthy_threshold = 2;
    std::size_t unhealthy_threshold = 3;
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

    // Backend protection. Each is off unless routes.yaml sets it.
    LoadBalancing load_balancing = LoadBalancing::round_robin;
    /// Requests at once to this upstream, whole process (all workers). 0: no limit.
    std::size_t max_in_flight = 0;
    /// Requests waiting for one of those slots; beyond it a request is refused at once.
    std::size_t max_pending = 0;
    /// How long a request waits for a slot before it is refused.
    std::chrono::milliseconds queue_timeout{1000};
    std::optional<OutlierDetection> outlier_detection;
    std::optional<HealthCheck> health_check;
    /// Retries at most this share of the upstream's recent requests. Null: no budget (each
    /// request may be retried once).
    std::optional<std::size_t> retry_budget_percent;
};

/// A route's `rate_limit:`: a token bucket per key, refilled at `requests_per_second`, holding
/// at most `burst` tokens. Buckets are per process (shared by its workers), or with
/// `scope: global` kept in Redis and shared by every replica.
struct RateLimit {
    enum class Key {
        client_ip,  // the connection's peer address
        route,      // one bucket for the whole route
        header,     // the value of header `header_name` (requests without it share one bucket)
    };
    double requests_per_second = 0;
    std::size_t burst = 0;
    Key key = Key::route;
    std::string header_name;  // lower case, for Key::header
    /// Buckets kept at most (least recently used ones go first), so a flood of distinct keys
    /// cannot grow memory without bound.
    std::size_t max_keys = 16384;
    /// As routes.yaml wrote the key ("client_ip", "route", "header:x-api-key"), for messages.
    std::string key_text;
    /// local: this process's buckets; global: Redis's (config.redis), one limit for the fleet.
    enum class Scope { local, global };
    Scope scope = Scope::local;
    /// What a global limit does when Redis cannot decide: forward (fail open) or refuse (503).
    enum class OnRedisError { allow, deny };
    OnRedisError on_redis_error = OnRedisError::allow;
};

/// `tracing:`: spans exported over OTLP/HTTP (JSON). Without it the gateway still propagates
/// W3C Trace Context, and exports nothing.
struct TracingConfig {
    /// The collector: http://HOST:PORT/PATH as written, and its parts (address resolved like
    /// an upstream's when the config loads to serve).
    std::string otlp_endpoint;
    Endpoint collector;
    std::string path = "/v1/traces";
    std::string service_name = "api-gateway";
    /// The share of requests traced that arrive without a sampled parent (or all of them
    /// when respect_parent_sampling is false).
    double sampling_ratio = 0.01;
    /// A caller's sampled flag decides for its requests (true), or the gateway alone (false:
    /// a flood of sampled requests from outside cannot make it trace everything).
    bool respect_parent_sampling = true;
    /// Spans waiting for export at most; beyond it new spans are dropped and counted.
    std::size_t max_queue_spans = 8192;
};

/// `redis:`, the store of the global rate limits: one server, or a Redis Cluster's seeds.
struct RedisConfig {
    std::vector<Endpoint> endpoints;  // resolved like the upstreams' (Endpoint::address)
    bool cluster = false;
    /// The environment variable holding the AUTH password, and its value as read at load time
    /// (empty name: no AUTH).
    std::string password_env;
    std::string password;
    /// A decision's whole budget: past it the request goes on as on_redis_error says.
    std::chrono::milliseconds timeout{5};
    /// Connections per worker (to each node, in a cluster).
    std::size_t pool_size = 2;
    bool operator==(const RedisConfig&) const;
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
    std::optional<RateLimit> rate_limit;
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
    /// /readyz is 503 while one of these upstreams (indices into Config::upstreams) has no
    /// healthy endpoint.
    std::vector<std::size_t> ready_requires_upstreams;
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
    /// `redis:`; null when routes.yaml has none (every limit is then local).
    std::shared_ptr<const RedisConfig> redis;
    /// `tracing:`; null when routes.yaml has none (propagation only).
    std::shared_ptr<const TracingConfig> tracing;
};

}  // namespace gateway
