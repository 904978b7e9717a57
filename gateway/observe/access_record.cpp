#include "observe/access_record.hpp"

#include <cstdio>
#include <ctime>

#include "core/text.hpp"

namespace gateway {
namespace {

void append_key(std::string& out, std::string_view key) {
    out += ",\"";
    out += key;
    out += "\":";
}

void append_nullable_string(std::string& out, std::string_view key, std::string_view value) {
    append_key(out, key);
    if (value.empty()) {
        out += "null";
    } else {
        append_json_string(out, value);
    }
}

void append_nullable_number(std::string& out, std::string_view key, std::uint64_t value) {
    append_key(out, key);
    if (value == 0) {
        out += "null";
    } else {
        out += std::to_string(value);
    }
}

// Milliseconds with microsecond precision: "12.345".
void append_milliseconds(std::string& out, std::chrono::nanoseconds elapsed) {
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
    char text[32];
    const int n = std::snprintf(text, sizeof text, "%lld.%03lld",
                                static_cast<long long>(micros / 1000),
                                static_cast<long long>(micros % 1000));
    out.append(text, static_cast<std::size_t>(n));
}

}  // namespace

std::string format_utc_time(std::chrono::system_clock::time_point time) {
    const auto since_epoch = time.time_since_epoch();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
    const std::time_t whole = static_cast<std::time_t>(seconds.count());
    std::tm utc{};
    gmtime_r(&whole, &utc);
    char text[40];
    const int n = std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                                utc.tm_min, utc.tm_sec, static_cast<int>(millis));
    return std::string(text, static_cast<std::size_t>(n));
}

void append_access_line(std::string& out, const AccessRecord& record) {
    out += "{\"time\":\"";
    out += format_utc_time(record.time);
    out += "\",\"event\":\"request\"";
    append_nullable_string(out, "request_id", record.request_id);
    append_nullable_string(out, "trace_id", record.trace_id);
    append_nullable_string(out, "span_id", record.span_id);
    append_nullable_string(out, "client", record.client);
    append_nullable_string(out, "method", record.method);
    const std::size_t question = record.target.find('?');
    append_nullable_string(out, "path", record.target.substr(0, question));
    append_key(out, "query");  // null without a '?', "" for a bare '?'
    if (question == std::string_view::npos) {
        out += "null";
    } else {
        append_json_string(out, record.target.substr(question + 1));
    }
    append_nullable_string(out, "route", record.route);
    append_key(out, "status");
    out += std::to_string(record.status);
    append_nullable_number(out, "error_code", static_cast<std::uint64_t>(record.error_code));
    append_nullable_string(out, "upstream", record.upstream);
    append_key(out, "upstream_endpoint");
    if (record.upstream_endpoint) {
        append_json_string(out, record.upstream_endpoint->to_string());
    } else {
        out += "null";
    }
    append_nullable_number(out, "upstream_status", record.upstream_status);
    append_nullable_string(out, "upstream_error_body", record.upstream_error_body);
    append_key(out, "duration_ms");
    append_milliseconds(out, record.duration);
    append_key(out, "upstream_ms");
    if (record.upstream.empty()) {
        out += "null";
    } else {
        append_milliseconds(out, record.upstream_duration);
    }
    append_key(out, "bytes_in");
    out += std::to_string(record.bytes_in);
    append_key(out, "bytes_out");
    out += std::to_string(record.bytes_out);
    append_nullable_string(out, "tls_version", record.tls_version);
    append_nullable_string(out, "tls_cipher", record.tls_cipher);
    append_nullable_string(out, "client_cert_subject", record.client_cert_subject);
    out += "}\n";
}

std::string config_line(const Config& config, std::string_view event) {
    std::string out = "{\"time\":\"";
    out += format_utc_time(config.loaded_at);
    out += "\",\"event\":";
    append_json_string(out, event);
    append_key(out, "config");
    append_json_string(out, config.source_file);
    append_key(out, "config_hash");
    append_json_string(out, config.source_hash);
    append_key(out, "routes");
    out += '[';
    for (std::size_t i = 0; i < config.routes.size(); ++i) {
        const RouteConfig& route = config.routes[i];
        if (i > 0) out += ',';
        out += "{\"name\":";
        append_json_string(out, route.name);
        append_key(out, "method");
        append_json_string(out, route.method);
        append_key(out, "path");
        append_json_string(out, route.path.text());
        append_key(out, "upstream");
        append_json_string(out, config.upstreams[route.upstream_index].name);
        out += '}';
    }
    out += "]}\n";
    return out;
}

}  // namespace gateway
