#include "config/endpoint_resolver.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <memory>
#include <optional>
#include <string>

namespace gateway {

namespace {

/// The first numeric address of `endpoint.host`, or why there is none.
std::optional<std::string> resolve(const Endpoint& endpoint, std::string& problem) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const int status =
        ::getaddrinfo(endpoint.host.c_str(), std::to_string(endpoint.port).c_str(), &hints, &found);
    const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(found, ::freeaddrinfo);
    if (status != 0 || found == nullptr) {
        problem = "cannot resolve '" + endpoint.host + "': " + ::gai_strerror(status);
        return std::nullopt;
    }
    char text[INET6_ADDRSTRLEN] = {};
    const void* raw =
        found->ai_family == AF_INET6
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(found->ai_addr)->sin6_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr);
    ::inet_ntop(found->ai_family, raw, text, sizeof text);
    return std::string(text);
}

}  // namespace

std::vector<Diagnostic> resolve_endpoints(Config& config) {
    std::vector<Diagnostic> problems;
    for (auto& upstream : config.upstreams) {
        for (auto& endpoint : upstream.endpoints) {
            std::string problem;
            const auto address = resolve(endpoint, problem);
            if (!address) {
                problems.push_back({config.source_file, 0, 0,
                                    "upstream '" + upstream.name + "': " + problem});
                continue;
            }
            endpoint.address = *address;
            // The upstream's name too: two upstreams on one address have pools (and pool_size
            // limits, and names in error details) of their own.
            endpoint.pool_key = upstream.name + "|" + endpoint.address + "|" +
                                std::to_string(endpoint.port) + "|" +
                                std::to_string(upstream.connect_timeout.count()) + "|" +
                                std::to_string(upstream.pool_size) +
                                (upstream.tls ? "|tls:" + upstream.tls->digest : "");
        }
    }
    if (config.tracing) {
        auto tracing = std::make_shared<TracingConfig>(*config.tracing);
        std::string problem;
        if (const auto address = resolve(tracing->collector, problem)) {
            tracing->collector.address = *address;
        } else {
            problems.push_back({config.source_file, 0, 0, "tracing otlp_endpoint: " + problem});
        }
        config.tracing = std::move(tracing);
    }
    if (config.redis) {
        auto redis = std::make_shared<RedisConfig>(*config.redis);
        for (auto& endpoint : redis->endpoints) {
            std::string problem;
            if (const auto address = resolve(endpoint, problem)) {
                endpoint.address = *address;
            } else {
                problems.push_back({config.source_file, 0, 0, "redis: " + problem});
            }
        }
        config.redis = std::move(redis);
    }
    return problems;
}

}  // namespace gateway
