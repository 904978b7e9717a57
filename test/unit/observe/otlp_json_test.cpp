// otlp_json: the OTLP/HTTP JSON body (ExportTraceServiceRequest) of a batch of spans. Parsed
// back with RapidJSON: every field's name and JSON type as OTLP's JSON encoding has it (ids as
// hex strings, 64-bit integers as decimal strings, enums as numbers), and nothing else.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <set>
#include <string>

#include "observe/span.hpp"

using namespace gateway;

namespace {

constexpr std::string_view kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kSpan = "b7ad6b7169203331";
constexpr std::string_view kParent = "00f067aa0ba902b7";

template <std::size_t N>
void set_id(std::array<char, N>& id, std::string_view hex) {
    REQUIRE(hex.size() == N);
    std::copy(hex.begin(), hex.end(), id.begin());
}

/// A client-facing server span with a parent, two attributes, an event and status ERROR.
Span full_span() {
    Span span;
    set_id(span.trace_id, kTrace);
    set_id(span.span_id, kSpan);
    set_id(span.parent_id, kParent);
    span.has_parent = true;
    span.kind = Span::Kind::server;
    span.name = "GET /v2/orgs/{orgId}/penalties/{accountId}";
    span.start_unix_ns = 1'795'473'601'123'456'789ULL;
    span.end_unix_ns = 1'795'473'601'124'000'000ULL;
    span.add("http.request.method", "GET");
    span.add("http.response.status_code", std::int64_t{502});
    Span::Event& event = span.events.emplace_back();
    event.name = "gateway.refused";
    event.time_unix_ns = 1'795'473'601'123'999'999ULL;
    event.attributes.push_back({"gateway.check", "auth", 0, false});
    event.attributes.push_back({"gateway.error_code", {}, 40101, true});
    span.error = true;
    span.status_message = "50202";
    return span;
}

rapidjson::Document parse(const std::string& body) {
    rapidjson::Document document;
    document.Parse<rapidjson::kParseValidateEncodingFlag>(body.data(), body.size());
    INFO(body);
    INFO(rapidjson::GetParseError_En(document.GetParseError()) << " at " << document.GetErrorOffset());
    REQUIRE_FALSE(document.HasParseError());
    REQUIRE(document.IsObject());
    return document;
}

std::set<std::string> keys(const rapidjson::Value& object) {
    std::set<std::string> out;
    for (const auto& member : object.GetObject()) out.insert(member.name.GetString());
    return out;
}

std::string str(const rapidjson::Value& value) {
    REQUIRE(value.IsString());
    return std::string(value.GetString(), value.GetStringLength());
}

/// The spans array of a one-resource, one-scope body, checking that envelope on the way.
const rapidjson::Value& spans_of(const rapidjson::Document& document) {
    REQUIRE(keys(document) == std::set<std::string>{"resourceSpans"});
    const auto& resource_spans = document["resourceSpans"];
    REQUIRE(resource_spans.IsArray());
    REQUIRE(resource_spans.Size() == 1);
    const auto& scope_spans = resource_spans[0]["scopeSpans"];
    REQUIRE(scope_spans.IsArray());
    REQUIRE(scope_spans.Size() == 1);
    const auto& spans = scope_spans[0]["spans"];
    REQUIRE(spans.IsArray());
    return spans;
}

/// An attribute list's entry `key`: {"key": ..., "value": {<kind>: ...}}; its value object.
const rapidjson::Value& attribute(const rapidjson::Value& list, std::string_view key) {
    REQUIRE(list.IsArray());
    for (const auto& entry : list.GetArray()) {
        REQUIRE(keys(entry) == std::set<std::string>{"key", "value"});
        if (str(entry["key"]) == key) {
            REQUIRE(entry["value"].IsObject());
            REQUIRE(entry["value"].MemberCount() == 1);
            return entry["value"];
        }
    }
    FAIL("no attribute " << key);
    return list;  // not reached
}

}  // namespace

TEST_CASE("otlp json: the envelope: one resource with service.name, one scope with the version") {
    const auto document = parse(otlp_json("edge-gateway", "1.4.2", {full_span()}));
    const auto& resource_spans = document["resourceSpans"][0];
    CHECK(keys(resource_spans) == std::set<std::string>{"resource", "scopeSpans"});
    const auto& resource = resource_spans["resource"];
    CHECK(keys(resource) == std::set<std::string>{"attributes"});
    REQUIRE(resource["attributes"].Size() == 1);
    CHECK(str(attribute(resource["attributes"], "service.name")["stringValue"]) == "edge-gateway");
    const auto& scope_spans = resource_spans["scopeSpans"][0];
    CHECK(keys(scope_spans) == std::set<std::string>{"scope", "spans"});
    CHECK(keys(scope_spans["scope"]) == std::set<std::string>{"name", "version"});
    CHECK(str(scope_spans["scope"]["name"]) == "api-gateway");
    CHECK(str(scope_spans["scope"]["version"]) == "1.4.2");
    CHECK(spans_of(document).Size() == 1);
}

TEST_CASE("otlp json: a span with a parent, an event and status ERROR, each field of its JSON type") {
    const auto document = parse(otlp_json("api-gateway", "1.0.0", {full_span()}));
    const auto& span = spans_of(document)[0];
    CHECK(keys(span) == std::set<std::string>{"traceId", "spanId", "parentSpanId", "name", "kind",
                                              "startTimeUnixNano", "endTimeUnixNano", "attributes",
                                              "events", "status"});
    // Ids: lower-case hex strings (OTLP JSON's exception to proto3's base64 for bytes).
    CHECK(str(span["traceId"]) == kTrace);
    CHECK(str(span["spanId"]) == kSpan);
    CHECK(str(span["parentSpanId"]) == kParent);
    CHECK(str(span["name"]) == "GET /v2/orgs/{orgId}/penalties/{accountId}");
    // Enums: numbers (SPAN_KIND_SERVER = 2).
    REQUIRE(span["kind"].IsInt());
    CHECK(span["kind"].GetInt() == 2);
    // fixed64: decimal strings.
    CHECK(str(span["startTimeUnixNano"]) == "1795473601123456789");
    CHECK(str(span["endTimeUnixNano"]) == "1795473601124000000");

    const auto& attributes = span["attributes"];
    REQUIRE(attributes.Size() == 2);
    CHECK(str(attributes[0]["key"]) == "http.request.method");  // in the order added
    CHECK(str(attribute(attributes, "http.request.method")["stringValue"]) == "GET");
    const auto& status_code = attribute(attributes, "http.response.status_code");
    REQUIRE(status_code.HasMember("intValue"));
    CHECK(str(status_code["intValue"]) == "502");  // int64: a string

    REQUIRE(span["events"].IsArray());
    REQUIRE(span["events"].Size() == 1);
    const auto& event = span["events"][0];
    CHECK(keys(event) == std::set<std::string>{"timeUnixNano", "name", "attributes"});
    CHECK(str(event["timeUnixNano"]) == "1795473601123999999");
    CHECK(str(event["name"]) == "gateway.refused");
    REQUIRE(event["attributes"].Size() == 2);
    CHECK(str(attribute(event["attributes"], "gateway.check")["stringValue"]) == "auth");
    CHECK(str(attribute(event["attributes"], "gateway.error_code")["intValue"]) == "40101");

    const auto& status = span["status"];
    CHECK(keys(status) == std::set<std::string>{"code", "message"});
    REQUIRE(status["code"].IsInt());
    CHECK(status["code"].GetInt() == 2);  // STATUS_CODE_ERROR
    CHECK(str(status["message"]) == "50202");
}

TEST_CASE("otlp json: a client span without parent, events or error leaves those fields out") {
    Span span;
    set_id(span.trace_id, kTrace);
    set_id(span.span_id, kSpan);
    span.kind = Span::Kind::client;
    span.name = "GET";
    span.start_unix_ns = 1;
    span.end_unix_ns = 2;
    const auto document = parse(otlp_json("api-gateway", "1.0.0", {span}));
    const auto& out = spans_of(document)[0];
    CHECK(keys(out) == std::set<std::string>{"traceId", "spanId", "name", "kind", "startTimeUnixNano",
                                             "endTimeUnixNano", "attributes"});
    CHECK(out["kind"].GetInt() == 3);  // SPAN_KIND_CLIENT
    REQUIRE(out["attributes"].IsArray());
    CHECK(out["attributes"].Empty());
    CHECK(str(out["startTimeUnixNano"]) == "1");
}

TEST_CASE("otlp json: several spans keep their order, and none is still a valid body") {
    Span second = full_span();
    set_id(second.span_id, "0000000000000001");
    second.kind = Span::Kind::client;
    const auto document = parse(otlp_json("api-gateway", "1.0.0", {full_span(), second}));
    const auto& spans = spans_of(document);
    REQUIRE(spans.Size() == 2);
    CHECK(str(spans[0]["spanId"]) == kSpan);
    CHECK(str(spans[1]["spanId"]) == "0000000000000001");
    CHECK(spans[1]["kind"].GetInt() == 3);

    const auto empty = parse(otlp_json("api-gateway", "1.0.0", {}));
    CHECK(spans_of(empty).Empty());
}

TEST_CASE("otlp json: the extremes of the integers, as decimal strings") {
    Span span = full_span();
    span.attributes.clear();
    span.add("max", std::int64_t{9'223'372'036'854'775'807});
    span.add("min", std::int64_t{-9'223'372'036'854'775'807 - 1});
    span.add("zero", std::int64_t{0});
    span.start_unix_ns = 0;
    span.end_unix_ns = 18'446'744'073'709'551'615ULL;
    const auto document = parse(otlp_json("api-gateway", "1.0.0", {span}));
    const auto& out = spans_of(document)[0];
    CHECK(str(attribute(out["attributes"], "max")["intValue"]) == "9223372036854775807");
    CHECK(str(attribute(out["attributes"], "min")["intValue"]) == "-9223372036854775808");
    CHECK(str(attribute(out["attributes"], "zero")["intValue"]) == "0");
    CHECK(str(out["startTimeUnixNano"]) == "0");
    CHECK(str(out["endTimeUnixNano"]) == "18446744073709551615");
}

TEST_CASE("otlp json: strings are escaped, and bytes that are not UTF-8 become U+FFFD") {
    Span span = full_span();
    span.name = std::string("GET \"quoted\" back\\slash tab\t nul") + '\0' + " caf\xc3\xa9 bad\xff end";
    span.attributes.clear();
    span.add("server.address", "h\xe2\x82\xac\xf0\x9f\x98\x80st\x7f");
    span.add("", "");  // empty key and value are still strings
    span.status_message = "line\nbreak";
    const std::string body = otlp_json("svc \"x\"", "v\\1", {span});
    CHECK(body.find('\t') == std::string::npos);
    CHECK(body.find('\n') == std::string::npos);
    const auto document = parse(body);  // with UTF-8 validation
    const auto& out = spans_of(document)[0];
    CHECK(str(out["name"]) == std::string("GET \"quoted\" back\\slash tab\t nul") + '\0' +
                                  " caf\xc3\xa9 bad\xef\xbf\xbd end");
    CHECK(str(attribute(out["attributes"], "server.address")["stringValue"]) == "h\xe2\x82\xac\xf0\x9f\x98\x80st\x7f");
    CHECK(str(attribute(out["attributes"], "")["stringValue"]).empty());
    CHECK(str(out["status"]["message"]) == "line\nbreak");
    CHECK(str(attribute(document["resourceSpans"][0]["resource"]["attributes"], "service.name")["stringValue"]) ==
          "svc \"x\"");
    CHECK(str(document["resourceSpans"][0]["scopeSpans"][0]["scope"]["version"]) == "v\\1");
}
