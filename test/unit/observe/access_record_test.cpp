#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include "config/config_loader.hpp"
#include "core/text.hpp"
#include "observe/access_record.hpp"

using namespace gateway;
using namespace std::chrono;

namespace {

// 2026-11-23T22:40:01.123Z
const system_clock::time_point kTime = system_clock::time_point(seconds(1795473601)) + milliseconds(123);

std::string line_of(const AccessRecord& record) {
    std::string line;
    append_access_line(line, record);
    return line;
}

}  // namespace

TEST_CASE("access line: a forwarded request has every field, in a fixed order") {
    AccessRecord record;
    record.time = kTime;
    record.request_id = "trace-1";
    record.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    record.span_id = "00f067aa0ba902b7";
    record.client = "10.0.0.7";
    record.method = "GET";
    record.target = "/v2/orgs/telco/penalties/7?reason=cancel";
    record.route = "get-account-penalties";
    record.status = 200;
    record.upstream = "penalties";
    const Endpoint endpoint{"penalties.internal", 9002};
    record.upstream_endpoint = &endpoint;
    record.upstream_status = 200;
    record.duration = microseconds(1234);
    record.upstream_duration = microseconds(987);
    record.bytes_in = 120;
    record.bytes_out = 345;
    CHECK(line_of(record) ==
          R"({"time":"2026-11-23T22:40:01.123Z","event":"request","request_id":"trace-1",)"
          R"("trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7",)"
          R"("client":"10.0.0.7","method":"GET","path":"/v2/orgs/telco/penalties/7",)"
          R"("query":"reason=cancel","route":"get-account-penalties","status":200,)"
          R"("error_code":null,"upstream":"penalties","upstream_endpoint":"penalties.internal:9002",)"
          R"("upstream_status":200,"upstream_error_body":null,)"
          R"("duration_ms":1.234,"upstream_ms":0.987,"bytes_in":120,"bytes_out":345,)"
          R"("tls_version":null,"tls_cipher":null,"client_cert_subject":null})"
          "\n");
}

TEST_CASE("access line: what does not apply is null, and the keys stay the same") {
    AccessRecord record;
    record.time = kTime;
    record.request_id = "r";
    record.client = "127.0.0.1";
    record.status = 431;
    record.error_code = 43101;
    record.duration = nanoseconds(999);
    CHECK(line_of(record) ==
          R"({"time":"2026-11-23T22:40:01.123Z","event":"request","request_id":"r",)"
          R"("trace_id":null,"span_id":null,)"
          R"("client":"127.0.0.1","method":null,"path":null,"query":null,"route":null,)"
          R"("status":431,"error_code":43101,"upstream":null,"upstream_endpoint":null,)"
          R"("upstream_status":null,"upstream_error_body":null,)"
          R"("duration_ms":0.000,"upstream_ms":null,"bytes_in":0,"bytes_out":0,)"
          R"("tls_version":null,"tls_cipher":null,"client_cert_subject":null})"
          "\n");
}

TEST_CASE("access line: hostile bytes stay one valid JSON line") {
    AccessRecord record;
    record.time = kTime;
    record.request_id = "a\"b\\c\nd\x01";
    record.method = "GET";
    record.target = "/x/caf\xC3\xA9/\xFF?q=\"";
    const std::string line = line_of(record);
    REQUIRE(line.back() == '\n');
    CHECK(line.find('\n') == line.size() - 1);
    rapidjson::Document parsed;
    parsed.Parse(line.data(), line.size() - 1);
    REQUIRE_FALSE(parsed.HasParseError());
    CHECK(std::string(parsed["request_id"].GetString()) == "a\"b\\c\nd\x01");
    CHECK(std::string(parsed["path"].GetString()) == "/x/caf\xC3\xA9/\xEF\xBF\xBD");  // U+FFFD
    CHECK(std::string(parsed["query"].GetString()) == "q=\"");
}

TEST_CASE("json strings: control bytes and invalid UTF-8 are escaped, the rest kept") {
    std::string out;
    append_json_string(out, std::string_view("tab\there \x7f \xE2\x82\xAC \xC0\xAF", 17));
    CHECK(out == R"("tab\u0009here \u007f )" "\xE2\x82\xAC" R"( \ufffd\ufffd")");
}

TEST_CASE("config line: lists every route with method, path and upstream") {
    const LoadResult loaded = load_config(std::string(TEST_SOURCE_DIR) + "/routes.yaml", {});
    REQUIRE(loaded.config);
    const std::string line = config_line(*loaded.config, "config_loaded");
    rapidjson::Document parsed;
    parsed.Parse(line.data(), line.size());
    REQUIRE_FALSE(parsed.HasParseError());
    CHECK(std::string(parsed["event"].GetString()) == "config_loaded");
    CHECK(std::string(parsed["config_hash"].GetString()) == loaded.config->source_hash);
    const auto& routes = parsed["routes"];
    REQUIRE(routes.Size() == loaded.config->routes.size());
    CHECK(std::string(routes[0]["name"].GetString()) == "get-subscription-blocks");
    CHECK(std::string(routes[0]["method"].GetString()) == "GET");
    CHECK(std::string(routes[0]["path"].GetString()) ==
          "/v2/orgs/{orgId}/subscriptions/{subscriptionId:int64}/blocks");
    CHECK(std::string(routes[0]["upstream"].GetString()) == "selfCareSocket");
}

TEST_CASE("access line: an upstream error body the client was not shown is logged, escaped") {
    AccessRecord record;
    record.time = kTime;
    record.upstream = "selfCareSocket";
    record.upstream_status = 500;
    record.upstream_error_body = "<h1>\"boom\"</h1>\n\tat com.telco.Db(Db.java:42)\x01";
    const std::string line = line_of(record);
    CHECK(line.find('\n') == line.size() - 1);
    rapidjson::Document parsed;
    parsed.Parse(line.data(), line.size() - 1);
    REQUIRE_FALSE(parsed.HasParseError());
    CHECK(std::string(parsed["upstream_error_body"].GetString()) ==
          "<h1>\"boom\"</h1>\n\tat com.telco.Db(Db.java:42)\x01");
}

TEST_CASE("access line: a TLS connection's version, cipher and verified client subject") {
    AccessRecord record;
    record.time = kTime;
    record.request_id = "r";
    record.client = "127.0.0.1";
    record.status = 200;
    record.tls_version = "TLSv1.3";
    record.tls_cipher = "TLS_AES_128_GCM_SHA256";
    record.client_cert_subject = "CN=billing \"ops\",O=Telco";
    CHECK_THAT(line_of(record),
               Catch::EndsWith(R"("tls_version":"TLSv1.3","tls_cipher":"TLS_AES_128_GCM_SHA256",)"
                               R"("client_cert_subject":"CN=billing \"ops\",O=Telco"})"
                               "\n"));
}
