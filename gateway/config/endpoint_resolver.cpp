#include "config/endpoint_resolver.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <memory>

namespace gateway {

std::vector<Diagnostic> resolve_endpoints(Config& config) {
    std::vector<Diagnostic> problems;
    for (auto& upstream : config.upstreams) {
        for (auto& endpoint : upstream.endpoints) {
            addrinfo hints{};
            hints.ai_family = AF_UNSPEC;
            hints.ai_socktype = SOCK_STREAM;
            hints.ai_flags = AI_NUMERICSERV;
            addrinfo* found = nullptr;
            const int status = ::getaddrinfo(endpoint.host.c_str(),
                                             std::to_string(endpoint.port).c_str(), &hints, &found);
            const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(found, ::freeaddrinfo);
            if (status != 0 || found == nullptr) {
                problems.push_back({config.source_file, 0, 0,
                                    "upstream '" + upstream.name + "': cannot resolve '" +
                                        endpoint.host + "': " + ::gai_strerror(status)});
                continue;
            }
            char text[INET6_ADDRSTRLEN] = {};
            const void* raw = found->ai_family == AF_INET6
                                  ? static_cast<const void*>(
                                        &reinterpret_cast<sockaddr_in6*>(found->ai_addr)->sin6_addr)
                                  : static_cast<const void*>(
                                        &reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr);
            ::inet_ntop(found->ai_family, raw, text, sizeof text);
            endpoint.address = text;
            // The upstream's name too: two upstreams on one address have pools (and pool_size
            // limits, and names in error details) of their own.
            endpoint.pool_key = upstream.name + "|" + endpoint.address + "|" +
                                std::to_string(endpoint.port) + "|" +
                                std::to_string(upstream.connect_timeout.count()) + "|" +
                                std::to_string(upstream.pool_size) +
                                (upstream.tls ? "|tls:" + upstream.tls->digest : "");
        }
    }
    return problems;
}

}  // namespace gateway
