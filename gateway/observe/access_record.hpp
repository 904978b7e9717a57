#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace gateway {

/// What the access log says about one answered request. The views point into the client
/// connection's own state and the request's config snapshot; they live until the line is
/// formatted.
struct AccessRecord {
    std::chrono::system_clock::time_point time{};  // when the request's head was complete
    std::string_view request_id{};
    /// W3C Trace Context: the request's trace and the gateway's span in it (empty: refused
    /// before its head could be parsed).
    std::string_view trace_id{};
    std::string_view span_id{};
    std::string_view client{};  // the peer's IP address
    std::string_view method{};  // empty: refused before its head could be parsed
    std::string_view target{};  // the request target as the client sent it (path and query)
    std::string_view route{};   // empty: matched no route
    unsigned status = 0;
    int error_code = 0;  // the ErrorMessage code the gateway answered with; 0: none
    std::string_view upstream{};     // empty: not forwarded
    const Endpoint* upstream_endpoint = nullptr;  // where it went (HOST:PORT); null: nowhere
    unsigned upstream_status = 0;  // 0: no answer came from the upstream
    /// The start of an upstream error body the client was not shown; empty: none.
    std::string_view upstream_error_body{};
    std::chrono::nanoseconds duration{0};           // head complete to answer written
    std::chrono::nanoseconds upstream_duration{0};  // sending to the upstream until its answer
    std::uint64_t bytes_in = 0;   // request head and body bytes as received
    std::uint64_t bytes_out = 0;  // response bytes written
    /// The connection's TLS, all empty on plain TCP: "TLSv1.3", the cipher suite's IANA-style
    /// OpenSSL name, and the verified client certificate's subject (RFC 2253) under client_ca.
    std::string_view tls_version{};
    std::string_view tls_cipher{};
    std::string_view client_cert_subject{};
};

/// "2026-11-23T22:40:01.123Z": UTC with milliseconds.
std::string format_utc_time(std::chrono::system_clock::time_point time);

/// Appends one access-log line (a JSON object, then '\n') for `record` to `out`. Fields that do
/// not apply are null, never missing, so that every line has the same keys:
/// {"time","event":"request","request_id","trace_id","span_id","client","method","path","query","route","status",
///  "error_code","upstream","upstream_endpoint","upstream_status","upstream_error_body",
///  "duration_ms","upstream_ms","bytes_in","bytes_out","tls_version","tls_cipher",
///  "client_cert_subject"}
void append_access_line(std::string& out, const AccessRecord& record);

/// The line written when a config starts serving (`event` is "config_loaded" at startup,
/// "config_reloaded" after a reload): its file, hash, and every route with method and path.
std::string config_line(const Config& config, std::string_view event);

}  // namespace gateway
