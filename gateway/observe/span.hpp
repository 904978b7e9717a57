#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gateway {

/// One finished span, as OTLP exports it: the gateway's server span of a request, or the
/// client span of one attempt upstream. Keys are the OpenTelemetry semantic conventions'
/// (static strings); values are copied, so a span outlives its request.
struct Span {
    enum class Kind : std::uint8_t { server = 2, client = 3 };  // OTLP's SpanKind numbers

    struct Attribute {
        std::string_view key;
        std::string text;
        std::int64_t integer = 0;
        bool is_integer = false;
    };
    struct Event {
        std::string name;
        std::uint64_t time_unix_ns = 0;
        std::vector<Attribute> attributes;
    };

    std::array<char, 32> trace_id{};
    std::array<char, 16> span_id{};
    std::array<char, 16> parent_id{};
    bool has_parent = false;
    Kind kind = Kind::server;
    std::string name;
    std::uint64_t start_unix_ns = 0;
    std::uint64_t end_unix_ns = 0;
    std::vector<Attribute> attributes;
    std::vector<Event> events;
    bool error = false;  // OTLP status ERROR (else UNSET)
    std::string status_message;

    void add(std::string_view key, std::string_view text) {
        attributes.push_back({key, std::string(text), 0, false});
    }
    void add(std::string_view key, std::int64_t value) { attributes.push_back({key, {}, value, true}); }
};

/// The OTLP/HTTP JSON body (ExportTraceServiceRequest, https://opentelemetry.io/docs/specs/otlp/
/// "JSON Protobuf Encoding": ids as lower-case hex, 64-bit integers as decimal strings, enums
/// as numbers) for `spans`, under one resource with service.name `service` and the scope
/// "api-gateway" at `version`.
std::string otlp_json(std::string_view service, std::string_view version, const std::vector<Span>& spans);

}  // namespace gateway
