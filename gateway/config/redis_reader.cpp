#include "config/redis_reader.hpp"

#include <cstdlib>

#include "config/upstreams_reader.hpp"

namespace gateway {
namespace {

constexpr std::string_view kRedisKeys[] = {"endpoints", "cluster", "password_env", "timeout_ms",
                                           "pool_size"};

bool same_endpoints(const std::vector<Endpoint>& a, const std::vector<Endpoint>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].host != b[i].host || a[i].port != b[i].port || a[i].address != b[i].address) {
            return false;
        }
    }
    return true;
}

/// An environment variable's name as POSIX shells accept it.
bool is_variable_name(std::string_view name) {
    if (name.empty() || (name.front() >= '0' && name.front() <= '9')) return false;
    for (const char c : name) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

bool RedisConfig::operator==(const RedisConfig& other) const {
    return same_endpoints(endpoints, other.endpoints) && cluster == other.cluster &&
           password_env == other.password_env && password == other.password &&
           timeout == other.timeout && pool_size == other.pool_size;
}

std::shared_ptr<const RedisConfig> read_redis(YamlReader& reader, const YAML::Node& node,
                                              bool serving) {
    if (!node.IsMap()) {
        reader.report(node, "redis must be a mapping such as {endpoints: [127.0.0.1:6379]}, got " +
                                describe(node));
        return nullptr;
    }
    reader.expect_map(node, "redis", kRedisKeys);
    auto redis = std::make_shared<RedisConfig>();
    bool ok = true;
    if (const auto endpoints = node["endpoints"]) {
        redis->endpoints = read_endpoints(reader, endpoints, "redis");  // reports an empty list
        ok = !redis->endpoints.empty();
    } else {
        reader.report(node, "redis needs 'endpoints' (a list of HOST:PORT: the server, or a "
                            "Redis Cluster's seed nodes)");
        ok = false;
    }
    if (const auto cluster = node["cluster"]) {
        if (const auto value = reader.read_bool(cluster, "redis cluster")) redis->cluster = *value;
    }
    if (!redis->cluster && redis->endpoints.size() > 1) {
        reader.report(node["endpoints"], "redis endpoints lists " +
                                             std::to_string(redis->endpoints.size()) +
                                             " servers but cluster is false: a single Redis "
                                             "takes one endpoint (set cluster: true for a "
                                             "Redis Cluster's seed nodes)");
    }
    if (const auto env = node["password_env"]) {
        if (const auto name = reader.read_string(env, "redis password_env")) {
            if (!is_variable_name(*name)) {
                reader.report(env, "redis password_env must name an environment variable "
                                   "(letters, digits and _), got '" + *name + "'");
            } else if (const char* value = std::getenv(name->c_str()); value == nullptr) {
                const std::string message = "redis password_env: the environment variable " +
                                            *name + " is not set, so AUTH cannot be sent";
                if (serving) {
                    reader.report(env, message);
                } else {
                    reader.warn(env, "warning: " + message + " (the gateway will not start "
                                                            "without it)");
                }
            } else {
                redis->password_env = *name;
                redis->password = value;
            }
        }
    }
    // A decision waits this long on each request: past a second it is no longer a limit's
    // cost but an outage's (envoyproxy/ratelimit#978: requests held for a 10 s client timeout).
    if (const auto timeout = node["timeout_ms"]) {
        if (const auto ms = reader.read_integer(timeout, "redis timeout_ms", 1, 1000)) {
            redis->timeout = std::chrono::milliseconds(*ms);
        }
    }
    reader.read_size(node, "pool_size", "redis ", 1, 64, redis->pool_size);
    if (!ok) return nullptr;
    return redis;
}

void check_global_limits(YamlReader& reader, const YAML::Node& root, const Config& config) {
    bool any_global = false;
    const YAML::Node routes = root["routes"];
    if (routes && routes.IsSequence()) {
        for (const auto& route : routes) {
            if (!route.IsMap() || !route["rate_limit"] || !route["rate_limit"].IsMap()) continue;
            const YAML::Node scope = route["rate_limit"]["scope"];
            if (!scope || !scope.IsScalar() || scope.Scalar() != "global") continue;
            any_global = true;
            if (!config.redis && !root["redis"]) {
                reader.report(scope, "rate_limit scope: global keeps its buckets in Redis, but "
                                     "there is no 'redis:' section (redis: {endpoints: "
                                     "[HOST:PORT]})");
            }
        }
    }
    if (!any_global && root["redis"] && config.redis) {
        reader.warn(root["redis"], "warning: redis is configured but no route has a rate_limit "
                                   "with scope: global; nothing will use it");
    }
}

}  // namespace gateway
