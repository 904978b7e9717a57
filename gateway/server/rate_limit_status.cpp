#include "server/rate_limit_status.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace gateway {

std::string_view redis_state_name(RedisHealth::State state) {
    switch (state) {
        case RedisHealth::State::connecting: return "connecting";
        case RedisHealth::State::up: return "up";
        case RedisHealth::State::down: return "down";
    }
    return "unknown";
}

std::string rate_limits_json(const Config& config, const WorkerMetrics& summed,
                             const RedisHealth& health, std::chrono::steady_clock::time_point now) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> json(buffer);
    json.StartObject();
    json.Key("config_hash");
    json.String(config.source_hash);
    json.Key("redis");
    json.StartObject();
    if (!config.redis) {
        json.Key("state");
        json.String("none");
    } else {
        const RedisHealth::View view = health.view(now);
        json.Key("state");
        const std::string_view state = redis_state_name(view.state);
        json.String(state.data(), static_cast<rapidjson::SizeType>(state.size()));
        json.Key("cluster");
        json.Bool(config.redis->cluster);
        json.Key("endpoints");
        json.StartArray();
        for (const auto& endpoint : config.redis->endpoints) json.String(endpoint.to_string());
        json.EndArray();
        json.Key("timeout_ms");
        json.Uint64(static_cast<std::uint64_t>(config.redis->timeout.count()));
        json.Key("pool_size");
        json.Uint64(config.redis->pool_size);
        json.Key("auth");
        json.Bool(!config.redis->password.empty());
        json.Key("consecutive_failures");
        json.Uint(view.consecutive_failures);
        json.Key("breaker_open");
        json.Bool(view.state == RedisHealth::State::down);
        if (view.state == RedisHealth::State::down) {
            json.Key("breaker_interval_ms");
            json.Int64(view.interval.count());
            json.Key("next_trial_in_ms");
            json.Int64(view.next_trial_in.count());
        }
        json.Key("state_changes");
        json.Uint64(view.state_changes);
        json.Key("last_error");
        if (view.last_error.empty()) {
            json.Null();
        } else {
            json.String(view.last_error);
        }
    }
    json.EndObject();
    json.Key("limits");
    json.StartArray();
    for (const auto& route : config.routes) {
        if (!route.rate_limit) continue;
        const RateLimit& limit = *route.rate_limit;
        const bool global = limit.scope == RateLimit::Scope::global;
        json.StartObject();
        json.Key("route");
        json.String(route.name);
        json.Key("scope");
        json.String(global ? "global" : "local");
        json.Key("key");
        json.String(limit.key_text);
        json.Key("requests_per_second");
        json.Double(limit.requests_per_second);
        json.Key("burst");
        json.Uint64(limit.burst);
        if (global) {
            json.Key("on_redis_error");
            json.String(limit.on_redis_error == RateLimit::OnRedisError::deny ? "deny" : "allow");
        }
        WorkerMetrics::RateLimitSeries series;
        if (const auto it = summed.rate_decisions().find(route.name); it != summed.rate_decisions().end()) {
            series = it->second;
        }
        json.Key("allowed");
        json.Uint64(series.allowed);
        json.Key("denied");
        json.Uint64(series.denied);
        json.Key("fallback");
        json.Uint64(series.fallback_total());
        json.Key("fallbacks");
        json.StartObject();
        for (std::size_t i = 0; i < kRateFallbackReasons.size(); ++i) {
            json.Key(kRateFallbackReasons[i].data(), static_cast<rapidjson::SizeType>(kRateFallbackReasons[i].size()));
            json.Uint64(series.fallbacks[i]);
        }
        json.EndObject();
        json.EndObject();
    }
    json.EndArray();
    json.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace gateway
