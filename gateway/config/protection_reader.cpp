#include "config/protection_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>

#include "config/spelling.hpp"
#include "core/text.hpp"

namespace gateway {
namespace {

constexpr std::string_view kOutlierKeys[] = {"consecutive_failures", "base_ejection_ms",
                                             "max_ejected_percent"};
constexpr std::string_view kHealthCheckKeys[] = {"path", "interval_ms", "timeout_ms",
                                                 "healthy_threshold", "unhealthy_threshold"};
constexpr std::string_view kRateLimitKeys[] = {"requests_per_second", "burst", "key", "max_keys",
                                               "scope", "on_redis_error"};
constexpr std::string_view kScopes[] = {"local", "global"};
constexpr std::string_view kRedisErrorActions[] = {"allow", "deny"};
constexpr std::string_view kBalancers[] = {"round_robin", "least_request"};
constexpr std::string_view kRateKeys[] = {"client_ip", "route", "header:NAME"};

/// RFC 9110 5.6.2: a header name is a token.
bool is_token(std::string_view text) {
    constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
    return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || kSymbols.find(c) != std::string_view::npos;
    });
}

std::string lower_case(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

/// A mapping, possibly empty (`outlier_detection: {}` turns it on with its defaults); `key:`
/// left empty is no mapping, and says so.
bool expect_settings(YamlReader& reader, const YAML::Node& node, const std::string& what,
                     std::span<const std::string_view> keys) {
    if (!node.IsMap()) {
        reader.report(node, what + " must be a mapping (write " + what.substr(what.rfind(' ') + 1) +
                                ": {} for the defaults), got " + describe(node));
        return false;
    }
    return reader.expect_map(node, what, keys);
}

/// One of `words`, with a suggestion for a near miss.
std::optional<std::string> read_word(YamlReader& reader, const YAML::Node& node,
                                     const std::string& what, std::span<const std::string_view> words) {
    auto text = reader.read_string(node, what);
    if (!text) return std::nullopt;
    if (std::find(words.begin(), words.end(), *text) != words.end()) return text;
    std::string message = what + " must be one of " + join(words) + ", got '" + *text + "'";
    if (const auto nearest = nearest_word(*text, words)) {
        message.append("; did you mean '").append(*nearest).append("'?");
    }
    reader.report(node, std::move(message));
    return std::nullopt;
}

void read_load_balancing(YamlReader& reader, const YAML::Node& value, const std::string& where,
                         UpstreamConfig& upstream) {
    const auto text = read_word(reader, value, where + " load_balancing", kBalancers);
    if (!text) return;
    upstream.load_balancing =
        *text == "least_request" ? LoadBalancing::least_request : LoadBalancing::round_robin;
}

void read_outlier_detection(YamlReader& reader, const YAML::Node& node, const std::string& where,
                            UpstreamConfig& upstream) {
    const std::string what = where + " outlier_detection";
    if (!expect_settings(reader, node, what, kOutlierKeys)) return;
    OutlierDetection settings;
    const std::string prefix = what + ".";
    reader.read_size(node, "consecutive_failures", prefix, 1, 1000, settings.consecutive_failures);
    reader.read_ms(node, "base_ejection_ms", prefix, settings.base_ejection);
    reader.read_size(node, "max_ejected_percent", prefix, 0, 100, settings.max_ejected_percent);
    upstream.outlier_detection = settings;
}

/// A probe's path: origin-form, as a request line carries it.
bool is_probe_path(std::string_view path) {
    return !path.empty() && path.front() == '/' &&
           std::none_of(path.begin(), path.end(), [](char c) {
               return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '#';
           });
}

void read_health_check(YamlReader& reader, const YAML::Node& node, const std::string& where,
                       UpstreamConfig& upstream) {
    const std::string what = where + " health_check";
    if (!expect_settings(reader, node, what, kHealthCheckKeys)) return;
    HealthCheck settings;
    const std::string prefix = what + ".";
    bool ok = true;
    if (const auto path = node["path"]) {
        const auto text = reader.read_string(path, prefix + "path");
        if (text && !is_probe_path(*text)) {
            reader.report(path, prefix + "path must start with '/' and hold no spaces, control "
                                         "characters or '#', got '" + *text + "'");
            ok = false;
        }
        if (text) settings.path = *text;
        ok = ok && text.has_value();
    }
    reader.read_ms(node, "interval_ms", prefix, settings.interval);
    reader.read_ms(node, "timeout_ms", prefix, settings.timeout);
    reader.read_size(node, "healthy_threshold", prefix, 1, 100, settings.healthy_threshold);
    reader.read_size(node, "unhealthy_threshold", prefix, 1, 100, settings.unhealthy_threshold);
    // Probes of one endpoint never overlap: the next waits for the last one's answer or timeout.
    if (settings.timeout > settings.interval) {
        reader.report(node["timeout_ms"] ? node["timeout_ms"] : node,
                      prefix + "timeout_ms (" + std::to_string(settings.timeout.count()) +
                          ") must not be longer than interval_ms (" +
                          std::to_string(settings.interval.count()) + ")");
        ok = false;
    }
    if (ok) upstream.health_check = settings;
}

std::optional<double> read_rate(YamlReader& reader, const YAML::Node& node, const std::string& what) {
    constexpr double kMax = 1'000'000;
    const std::string expected = what + " must be a number of requests above 0 and at most 1000000";
    if (!node.IsScalar() || node.Scalar().empty() || node.Tag() == "!") {
        reader.report(node, expected + ", got " + describe(node) +
                                (node.IsScalar() && node.Tag() == "!"
                                     ? " (quoted, so a string: write it without quotes)"
                                     : ""));
        return std::nullopt;
    }
    const std::string& text = node.Scalar();
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
        value <= 0 || value > kMax) {
        reader.report(node, expected + ", got '" + text + "'");
        return std::nullopt;
    }
    return value;
}

bool read_rate_key(YamlReader& reader, const YAML::Node& node, const std::string& what,
                   RateLimit& limit) {
    const auto text = reader.read_string(node, what);
    if (!text) return false;
    limit.key_text = *text;
    if (*text == "client_ip") {
        limit.key = RateLimit::Key::client_ip;
        return true;
    }
    if (*text == "route") {
        limit.key = RateLimit::Key::route;
        return true;
    }
    if (text->starts_with("header:")) {
        const std::string name = text->substr(7);
        if (name.empty()) {
            reader.report(node, what + " 'header:' needs the header's name after the colon, e.g. "
                                       "header:x-api-key");
            return false;
        }
        if (!is_token(name)) {
            reader.report(node, what + " '" + *text + "': '" + name +
                                    "' is no header name (letters, digits and !#$%&'*+-.^_`|~ only)");
            return false;
        }
        limit.key = RateLimit::Key::header;
        limit.header_name = lower_case(name);
        limit.key_text = "header:" + limit.header_name;
        return true;
    }
    std::string message = what + " must be one of " + join(kRateKeys) + ", got '" + *text + "'";
    if (const auto nearest = nearest_word(*text, kRateKeys)) {
        message.append("; did you mean '").append(*nearest).append("'?");
    }
    reader.report(node, std::move(message));
    return false;
}

}  // namespace

void read_upstream_protection(YamlReader& reader, const YAML::Node& body, const std::string& where,
                              UpstreamConfig& upstream) {
    const std::string prefix = where + " ";
    if (const auto value = body["load_balancing"]) read_load_balancing(reader, value, where, upstream);
    reader.read_size(body, "max_in_flight", prefix, 1, 1'000'000, upstream.max_in_flight);
    // The queue is as deep as the limit unless it says otherwise: a burst twice the limit waits
    // (up to queue_timeout_ms) instead of failing at once.
    upstream.max_pending = upstream.max_in_flight;
    reader.read_size(body, "max_pending", prefix, 0, 1'000'000, upstream.max_pending);
    reader.read_ms(body, "queue_timeout_ms", prefix, upstream.queue_timeout);
    for (const char* key : {"max_pending", "queue_timeout_ms"}) {
        if (body[key] && !body["max_in_flight"]) {
            reader.report(body[key], where + " " + key + " needs max_in_flight (the limit whose "
                                                         "queue it sets)");
        }
    }
    if (const auto node = body["outlier_detection"]) read_outlier_detection(reader, node, where, upstream);
    if (const auto node = body["health_check"]) read_health_check(reader, node, where, upstream);
    if (const auto value = body["retry_budget_percent"]) {
        if (auto percent = reader.read_integer(value, prefix + "retry_budget_percent", 0, 100)) {
            upstream.retry_budget_percent = static_cast<std::size_t>(*percent);
        }
    }
}

std::optional<RateLimit> read_rate_limit(YamlReader& reader, const YAML::Node& node,
                                         const std::string& where) {
    const std::string what = where + " rate_limit";
    if (!node.IsMap()) {
        reader.report(node, what + " must be a mapping such as {requests_per_second: 50, burst: "
                                   "100, key: client_ip}, got " + describe(node));
        return std::nullopt;
    }
    reader.expect_map(node, what, kRateLimitKeys);
    RateLimit limit;
    limit.key_text = "route";
    const std::string prefix = what + ".";
    bool ok = true;
    if (const auto rate = node["requests_per_second"]) {
        const auto value = read_rate(reader, rate, prefix + "requests_per_second");
        if (value) limit.requests_per_second = *value;
        ok = value.has_value();
    } else {
        reader.report(node, what + " needs 'requests_per_second' (the rate its bucket refills at)");
        ok = false;
    }
    // Without a burst, a second's worth: a client may send its rate at once, then keeps to it.
    limit.burst = static_cast<std::size_t>(std::max(1.0, std::ceil(limit.requests_per_second)));
    if (const auto burst = node["burst"]) {
        const auto value = reader.read_integer(burst, prefix + "burst", 1, 1'000'000);
        if (value) limit.burst = static_cast<std::size_t>(*value);
        ok = value.has_value() && ok;
    }
    if (const auto key = node["key"]) ok = read_rate_key(reader, key, prefix + "key", limit) && ok;
    if (const auto keys = node["max_keys"]) {
        const auto value = reader.read_integer(keys, prefix + "max_keys", 1, 10'000'000);
        if (value) limit.max_keys = static_cast<std::size_t>(*value);
        ok = value.has_value() && ok;
    }
    bool scope_known = true;  // a misspelt scope says nothing of what on_redis_error may go with
    if (const auto scope = node["scope"]) {
        const auto text = read_word(reader, scope, prefix + "scope", kScopes);
        if (text) limit.scope = *text == "global" ? RateLimit::Scope::global : RateLimit::Scope::local;
        scope_known = text.has_value();
        ok = text.has_value() && ok;
    }
    if (const auto action = node["on_redis_error"]) {
        const auto text = read_word(reader, action, prefix + "on_redis_error", kRedisErrorActions);
        if (text) {
            limit.on_redis_error =
                *text == "deny" ? RateLimit::OnRedisError::deny : RateLimit::OnRedisError::allow;
        }
        ok = text.has_value() && ok;
        if (text && scope_known && limit.scope != RateLimit::Scope::global) {
            reader.report(action, prefix + "on_redis_error applies to scope: global limits only "
                                           "(a local limit never asks Redis)");
            ok = false;
        }
    }
    if (scope_known && limit.scope == RateLimit::Scope::global && node["max_keys"]) {
        reader.report(node["max_keys"], prefix + "max_keys bounds a local limit's buckets; a "
                                                 "global limit's keys expire in Redis by themselves");
        ok = false;
    }
    if (!ok) return std::nullopt;
    return limit;
}

void warn_unejectable(YamlReader& reader, const YAML::Node& upstreams_node,
                      const std::vector<UpstreamConfig>& upstreams) {
    for (const auto& upstream : upstreams) {
        if (!upstream.outlier_detection || upstream.endpoints.empty()) continue;
        const std::size_t percent = upstream.outlier_detection->max_ejected_percent;
        if (percent * upstream.endpoints.size() >= 100) continue;
        const YAML::Node settings = upstreams_node[upstream.name]["outlier_detection"];
        const YAML::Node at = settings["max_ejected_percent"] ? settings["max_ejected_percent"] : settings;
        reader.warn(at, "warning: upstream '" + upstream.name + "' outlier_detection.max_ejected_percent " +
                            std::to_string(percent) + " of its " +
                            std::to_string(upstream.endpoints.size()) +
                            " endpoint(s) is less than one endpoint: none will ever be ejected");
    }
}

void read_ready_requirements(YamlReader& reader, const YAML::Node& limits,
                             const std::vector<UpstreamConfig>& upstreams, Limits& out) {
    const auto node = limits["ready_requires_upstreams"];
    if (!node) return;
    const auto names = reader.read_string_list(node, "limits.ready_requires_upstreams");
    if (!names) return;
    std::vector<std::string_view> known;
    for (const auto& upstream : upstreams) known.push_back(upstream.name);
    for (std::size_t i = 0; i < names->size(); ++i) {
        const std::string& name = (*names)[i];
        const auto it = std::find(known.begin(), known.end(), name);
        if (it != known.end()) {
            out.ready_requires_upstreams.push_back(static_cast<std::size_t>(it - known.begin()));
            continue;
        }
        std::string message = "limits.ready_requires_upstreams: unknown upstream '" + name + "'";
        if (const auto nearest = nearest_word(name, known)) {
            message.append("; did you mean '").append(*nearest).append("'?");
        }
        reader.report(node[i], message + " (defined: " + join(known) + ")");
    }
}

}  // namespace gateway
