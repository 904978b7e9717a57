#include "server/upstream_status.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace gateway {

namespace {

/// What max_in_flight counts when it is set (streamed answers included); else the sum of the
/// endpoints' requests.
std::int64_t requests_in_flight(const UpstreamConfig& upstream, UpstreamState& state,
                                const std::vector<UpstreamState::EndpointView>& endpoints) {
    if (upstream.max_in_flight > 0) return state.gate().in_flight();
    std::int64_t total = 0;
    for (const auto& endpoint : endpoints) total += endpoint.in_flight;
    return total;
}

std::string_view balancing_name(LoadBalancing balancing) {
    return balancing == LoadBalancing::least_request ? "least_request" : "round_robin";
}

}  // namespace

std::string upstreams_json(const Config& config, UpstreamStates& states,
                           std::chrono::steady_clock::time_point now) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> json(buffer);
    json.StartObject();
    json.Key("config_hash");
    json.String(config.source_hash);
    json.Key("upstreams");
    json.StartArray();
    for (const auto& upstream : config.upstreams) {
        const auto state = states.get(upstream.name);
        const auto endpoints = state->view(now);
        json.StartObject();
        json.Key("name");
        json.String(upstream.name);
        json.Key("load_balancing");
        json.String(balancing_name(upstream.load_balancing).data());
        json.Key("in_flight");
        json.Int64(requests_in_flight(upstream, *state, endpoints));
        json.Key("pending");
        json.Int64(state->gate().pending());
        json.Key("max_in_flight");
        if (upstream.max_in_flight > 0) {
            json.Uint64(upstream.max_in_flight);
        } else {
            json.Null();
        }
        json.Key("outlier_detection");
        json.Bool(upstream.outlier_detection.has_value());
        json.Key("health_check");
        json.Bool(upstream.health_check.has_value());
        json.Key("overflow");
        json.StartObject();
        json.Key("max_pending");
        json.Uint64(state->overflow_queue_full.load(std::memory_order_relaxed));
        json.Key("queue_timeout");
        json.Uint64(state->overflow_queue_timeout.load(std::memory_order_relaxed));
        json.Key("expected_wait");
        json.Uint64(state->overflow_expected_wait.load(std::memory_order_relaxed));
        json.EndObject();
        json.Key("retry_budget_exhausted");
        json.Uint64(state->retry_budget_exhausted.load(std::memory_order_relaxed));
        json.Key("panics");
        json.Uint64(state->panics.load(std::memory_order_relaxed));
        json.Key("endpoints");
        json.StartArray();
        for (const auto& endpoint : endpoints) {
            json.StartObject();
            json.Key("endpoint");
            json.String(endpoint.name);
            json.Key("health");
            json.String(to_string(endpoint.health).data());
            json.Key("ejected");
            json.Bool(endpoint.ejected);
            json.Key("ejected_for_ms");
            json.Int64(endpoint.ejected_for.count());
            json.Key("ejections");
            json.Uint64(endpoint.ejections);
            json.Key("in_flight");
            json.Int64(endpoint.in_flight);
            json.Key("consecutive_failures");
            json.Uint(endpoint.consecutive_failures);
            json.Key("last_error");
            if (endpoint.last_error.empty()) {
                json.Null();
            } else {
                json.String(endpoint.last_error);
            }
            json.EndObject();
        }
        json.EndArray();
        json.EndObject();
    }
    json.EndArray();
    json.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
}

std::string unready_upstreams(const Config& config, UpstreamStates& states,
                              std::chrono::steady_clock::time_point now) {
    std::string reasons;
    for (const std::size_t index : config.limits.ready_requires_upstreams) {
        const UpstreamConfig& upstream = config.upstreams[index];
        const auto state = states.get(upstream.name);
        if (state->has_healthy_endpoint(upstream.health_check.has_value(), now)) continue;
        if (!reasons.empty()) reasons += "; ";
        reasons += "upstream " + upstream.name + " has no healthy endpoint";
    }
    return reasons;
}

std::vector<UpstreamProtectionSample> upstream_samples(const Config& config, UpstreamStates& states,
                                                       std::chrono::steady_clock::time_point now) {
    std::vector<UpstreamProtectionSample> samples;
    for (const auto& upstream : config.upstreams) {
        const auto state = states.get(upstream.name);
        UpstreamProtectionSample sample;
        sample.upstream = upstream.name;
        const auto endpoints = state->view(now);
        sample.in_flight = requests_in_flight(upstream, *state, endpoints);
        sample.overflow_queue_full = state->overflow_queue_full.load(std::memory_order_relaxed);
        sample.overflow_queue_timeout = state->overflow_queue_timeout.load(std::memory_order_relaxed);
        sample.overflow_expected_wait = state->overflow_expected_wait.load(std::memory_order_relaxed);
        sample.retry_budget_exhausted = state->retry_budget_exhausted.load(std::memory_order_relaxed);
        sample.panics = state->panics.load(std::memory_order_relaxed);
        for (const auto& endpoint : endpoints) {
            sample.endpoints.push_back(
                {endpoint.name, !endpoint.ejected && endpoint.health != ProbeHealth::unhealthy,
                 endpoint.ejections});
        }
        samples.push_back(std::move(sample));
    }
    return samples;
}

}  // namespace gateway
