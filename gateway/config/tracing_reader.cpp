#include "config/tracing_reader.hpp"

#include <charconv>
#include <cmath>

#include "config/config_loader.hpp"

namespace gateway {
namespace {

constexpr std::string_view kTracingKeys[] = {"otlp_endpoint", "service_name", "sampling_ratio",
                                             "respect_parent_sampling", "max_queue_spans"};

/// http://HOST:PORT/PATH (the port may be left out: 80; the path too: /v1/traces).
bool read_collector(YamlReader& reader, const YAML::Node& node, TracingConfig& tracing) {
    const auto text = reader.read_string(node, "tracing otlp_endpoint");
    if (!text) return false;
    std::string_view rest = *text;
    const auto problem = [&](const std::string& why) {
        reader.report(node, "tracing otlp_endpoint must be http://HOST:PORT/PATH (OTLP/HTTP, e.g. "
                            "http://127.0.0.1:4318/v1/traces), got '" + *text + "': " + why);
        return false;
    };
    if (rest.starts_with("https://")) {
        return problem("https is not supported; send to a collector on the host or in the pod, "
                       "which forwards over TLS");
    }
    if (!rest.starts_with("http://")) return problem("it must start with http://");
    rest.remove_prefix(7);
    const auto slash = rest.find('/');
    std::string authority(rest.substr(0, slash));
    tracing.path = slash == std::string_view::npos ? "/v1/traces" : std::string(rest.substr(slash));
    if (tracing.path.find_first_of("?# ") != std::string::npos) return problem("no query, fragment or space in the path");
    if (authority.empty()) return problem("no host");
    const bool bracketed = authority.front() == '[';
    const auto close = authority.find(']');
    const bool has_port = bracketed ? (close != std::string::npos && close + 1 < authority.size())
                                    : authority.find(':') != std::string::npos;
    if (!has_port) authority += ":80";
    const auto endpoint = parse_endpoint(authority);
    if (!endpoint) return problem("no HOST:PORT with a port from 1 to 65535");
    tracing.collector = *endpoint;
    tracing.otlp_endpoint = *text;
    return true;
}

}  // namespace

std::shared_ptr<const TracingConfig> read_tracing(YamlReader& reader, const YAML::Node& node) {
    if (!node.IsMap()) {
        reader.report(node, "tracing must be a mapping such as {otlp_endpoint: "
                            "http://127.0.0.1:4318/v1/traces}, got " + describe(node));
        return nullptr;
    }
    reader.expect_map(node, "tracing", kTracingKeys);
    auto tracing = std::make_shared<TracingConfig>();
    bool ok = true;
    if (const auto endpoint = node["otlp_endpoint"]) {
        ok = read_collector(reader, endpoint, *tracing);
    } else {
        reader.report(node, "tracing needs 'otlp_endpoint' (the OTLP/HTTP collector, e.g. "
                            "http://127.0.0.1:4318/v1/traces)");
        ok = false;
    }
    if (const auto name = node["service_name"]) {
        if (const auto text = reader.read_string(name, "tracing service_name")) {
            if (text->empty() || text->size() > 255) {
                reader.report(name, "tracing service_name must be 1 to 255 characters");
            } else {
                tracing->service_name = *text;
            }
        }
    }
    if (const auto ratio = node["sampling_ratio"]) {
        const std::string expected = "tracing sampling_ratio must be a number from 0 to 1";
        if (!ratio.IsScalar() || ratio.Tag() == "!") {
            reader.report(ratio, expected + ", got " + describe(ratio));
        } else {
            const std::string& text = ratio.Scalar();
            double value = -1;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
                value < 0 || value > 1) {
                reader.report(ratio, expected + " (0.01 traces one request in a hundred), got '" + text + "'");
            } else {
                tracing->sampling_ratio = value;
            }
        }
    }
    if (const auto respect = node["respect_parent_sampling"]) {
        if (const auto value = reader.read_bool(respect, "tracing respect_parent_sampling")) {
            tracing->respect_parent_sampling = *value;
        }
    }
    reader.read_size(node, "max_queue_spans", "tracing ", 1, 1'000'000, tracing->max_queue_spans);
    if (!ok) return nullptr;
    return tracing;
}

}  // namespace gateway
