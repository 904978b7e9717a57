#include "config/upstreams_reader.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include "config/config_loader.hpp"
#include "config/protection_reader.hpp"

namespace gateway {
namespace {

constexpr std::string_view kUpstreamKeys[] = {
    "endpoints", "connect_timeout_ms", "request_timeout_ms", "pool_size", "max_response_bytes",
    "response_buffer_bytes", "expose_error_body", "tls", "load_balancing", "max_in_flight",
    "max_pending", "queue_timeout_ms", "outlier_detection", "health_check", "retry_budget_percent"};

bool is_ipv6(std::string_view text) {
    in6_addr address{};
    return ::inet_pton(AF_INET6, std::string(text).c_str(), &address) == 1;
}

}  // namespace

std::vector<Endpoint> read_endpoints(YamlReader& reader, const YAML::Node& node,
                                     const std::string& where) {
    std::vector<Endpoint> endpoints;
    const auto texts = reader.read_string_list(node, where + " endpoints");
    if (!texts) return endpoints;
    for (std::size_t i = 0; i < texts->size(); ++i) {
        const std::string& text = (*texts)[i];
        if (auto endpoint = parse_endpoint(text)) {
            endpoints.push_back(*endpoint);
        } else {
            reader.report(node[i], "endpoint '" + text + "' of " + where +
                                       " must be HOST:PORT with a port from 1 to 65535: " +
                                       endpoint_problem(text));
        }
    }
    return endpoints;
}

std::string endpoint_problem(std::string_view text) {
    if (const auto scheme = text.find("://"); scheme != std::string_view::npos) {
        std::string_view rest = text.substr(scheme + 3);
        rest = rest.substr(0, rest.find('/'));
        return "write it without a scheme or path: " + std::string(rest);
    }
    std::string_view host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos) return "the '[' of an IPv6 address needs its ']': [::1]:9001";
        if (close + 1 >= text.size() || text[close + 1] != ':') {
            return "a port must follow the ']': " + std::string(text.substr(0, close + 1)) + ":PORT";
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const std::size_t colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            return "there is no port: write " + std::string(text) + ":PORT";
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) {
            if (is_ipv6(host)) {
                return "write IPv6 addresses in brackets: [" + std::string(host) + "]:" +
                       std::string(port);
            }
            if (is_ipv6(text)) {
                return "an IPv6 address needs brackets and a port: [" + std::string(text) + "]:PORT";
            }
            return "a host name holds no ':' (write IPv6 addresses in brackets: [::1]:9001)";
        }
    }
    if (host.empty()) return "there is no host before the port";
    unsigned number = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (port.empty() || (ec != std::errc() && ec != std::errc::result_out_of_range) ||
        end != port.data() + port.size()) {
        return "the port '" + std::string(port) + "' is not a number";
    }
    return "the port " + std::string(port) + " is out of range";
}

void read_upstreams(YamlReader& reader, const YAML::Node& node, const std::filesystem::path& base_dir,
                    std::vector<UpstreamConfig>& upstreams, TlsFilesRead& tls_read) {
    if (!reader.expect_map(node, "upstreams", {})) return;
    if (node.size() == 0) reader.report(node, "upstreams must name at least one upstream");
    for (const auto& entry : node) {
        UpstreamConfig upstream;
        upstream.name = entry.first.Scalar();
        const std::string where = "upstream '" + upstream.name + "'";
        const YAML::Node& body = entry.second;
        // A duplicated name is reported by expect_map; keeping the first keeps routes' lookups
        // and the "defined:" lists free of twins.
        if (std::any_of(upstreams.begin(), upstreams.end(),
                        [&](const auto& u) { return u.name == upstream.name; })) {
            continue;
        }
        if (!reader.expect_map(body, where, kUpstreamKeys)) continue;
        if (const auto endpoints = body["endpoints"]) {
            upstream.endpoints = read_endpoints(reader, endpoints, where);
        } else {
            reader.report(entry.first, where + " needs 'endpoints' (a list of HOST:PORT, e.g. "
                                               "endpoints: [127.0.0.1:9001])");
        }
        const std::string prefix = where + " ";
        reader.read_ms(body, "connect_timeout_ms", prefix, upstream.connect_timeout);
        reader.read_ms(body, "request_timeout_ms", prefix, upstream.request_timeout);
        reader.read_size(body, "pool_size", prefix, 1, 100'000, upstream.pool_size);
        reader.read_size(body, "max_response_bytes", prefix, 1024, 1LL << 40,
                         upstream.max_response_bytes);
        reader.read_size(body, "response_buffer_bytes", prefix, 1024, 1LL << 30,
                         upstream.response_buffer_bytes);
        if (const auto value = body["expose_error_body"]) {
            if (auto expose = reader.read_bool(value, where + " expose_error_body")) {
                upstream.expose_error_body = *expose;
                if (*expose) {
                    reader.warn(value, "warning: " + where + " expose_error_body: true quotes its "
                                       "error bodies to clients, which can show them stack traces, "
                                       "internal host names or credentials; for debugging only");
                }
            }
        }
        if (const auto tls = body["tls"]) {
            upstream.tls = read_upstream_tls(reader, tls, base_dir, where, tls_read);
        }
        read_upstream_protection(reader, body, where, upstream);
        upstreams.push_back(std::move(upstream));
    }
}

}  // namespace gateway
