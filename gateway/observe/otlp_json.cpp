// The OTLP/HTTP JSON encoding of spans. Written by hand rather than through a DOM: the shape is
// fixed, and the exporter's thread encodes thousands of spans a second at full sampling.
#include <string>

#include "core/text.hpp"
#include "observe/span.hpp"

namespace gateway {
namespace {

void append_key(std::string& out, std::string_view key) {
    append_json_string(out, key);
    out += ':';
}

void append_attributes(std::string& out, const std::vector<Span::Attribute>& attributes) {
    out += '[';
    bool first = true;
    for (const auto& attribute : attributes) {
        if (!first) out += ',';
        first = false;
        out += "{\"key\":";
        append_json_string(out, attribute.key);
        if (attribute.is_integer) {
            // int64 values are strings in OTLP's JSON (the proto3 JSON mapping).
            out += ",\"value\":{\"intValue\":\"";
            out += std::to_string(attribute.integer);
            out += "\"}}";
        } else {
            out += ",\"value\":{\"stringValue\":";
            append_json_string(out, attribute.text);
            out += "}}";
        }
    }
    out += ']';
}

void append_span(std::string& out, const Span& span) {
    out += "{\"traceId\":\"";
    out.append(span.trace_id.data(), span.trace_id.size());
    out += "\",\"spanId\":\"";
    out.append(span.span_id.data(), span.span_id.size());
    out += '"';
    if (span.has_parent) {
        out += ",\"parentSpanId\":\"";
        out.append(span.parent_id.data(), span.parent_id.size());
        out += '"';
    }
    out += ',';
    append_key(out, "name");
    append_json_string(out, span.name);
    out += ",\"kind\":";
    out += std::to_string(static_cast<int>(span.kind));
    out += ",\"startTimeUnixNano\":\"";
    out += std::to_string(span.start_unix_ns);
    out += "\",\"endTimeUnixNano\":\"";
    out += std::to_string(span.end_unix_ns);
    out += "\",\"attributes\":";
    append_attributes(out, span.attributes);
    if (!span.events.empty()) {
        out += ",\"events\":[";
        bool first = true;
        for (const auto& event : span.events) {
            if (!first) out += ',';
            first = false;
            out += "{\"timeUnixNano\":\"";
            out += std::to_string(event.time_unix_ns);
            out += "\",\"name\":";
            append_json_string(out, event.name);
            out += ",\"attributes\":";
            append_attributes(out, event.attributes);
            out += '}';
        }
        out += ']';
    }
    if (span.error) {
        out += ",\"status\":{\"code\":2,\"message\":";  // STATUS_CODE_ERROR
        append_json_string(out, span.status_message);
        out += '}';
    }
    out += '}';
}

}  // namespace

std::string otlp_json(std::string_view service, std::string_view version, const std::vector<Span>& spans) {
    std::string out;
    out.reserve(256 + spans.size() * 700);
    out += "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":";
    append_json_string(out, service);
    out += "}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"api-gateway\",\"version\":";
    append_json_string(out, version);
    out += "},\"spans\":[";
    bool first = true;
    for (const auto& span : spans) {
        if (!first) out += ',';
        first = false;
        append_span(out, span);
    }
    out += "]}]}]}";
    return out;
}

}  // namespace gateway
