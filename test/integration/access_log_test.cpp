// Operations: the access log (--access-log), one JSON line per request, reopened on SIGUSR1.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>
#include <signal.h>

#include <filesystem>
#include <optional>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/access_log_lines.hpp"
#include "support/gateway_fixture.hpp"
#include "support/hardening.hpp"
#include "support/http_client.hpp"

using namespace test_support;
using Catch::Matchers::Contains;
using std::chrono::milliseconds;
namespace fs = std::filesystem;

namespace {

constexpr const char* kBlocks = "/v2/orgs/telco/subscriptions/214748364/blocks";

std::string read_file(const fs::path& path) { return read_text_file(path.string()); }


GatewayOptions logging_to(const fs::path& path, std::string config_path = {}) {
    GatewayOptions options;
    options.config_path = std::move(config_path);
    options.extra_args = {"--access-log", path.string()};
    return options;
}

std::string get_request(const std::string& target, const std::string& request_id,
                        const std::string& more_headers = "") {
    return "GET " + target + " HTTP/1.1\r\nHost: gw\r\nx-auth-roles: API_KEY\r\nx-request-id: " +
           request_id + "\r\n" + more_headers + "Connection: close\r\n\r\n";
}

}  // namespace

TEST_CASE("access log: a startup line lists the routes loaded") {
    TempDir dir;
    const fs::path log = dir.path() / "access.log";
    GatewayFixture fixture(logging_to(log));
    REQUIRE(poll_until([&] { return !log_lines(log).empty(); }, Clock::now() + milliseconds(3000)));
    const auto lines = log_lines(log);
    const auto& startup = lines.front();
    CHECK(json_text(startup["event"]) == "config_loaded");
    CHECK(json_text(startup["config"]) == project_routes_yaml());
    CHECK(json_text(startup["config_hash"]).size() == 16);
    const auto& routes = startup["routes"];
    REQUIRE(routes.Size() == 7);
    CHECK(json_text(routes[1]["name"]) == "patch-subscription-block");
    CHECK(json_text(routes[1]["method"]) == "PATCH");
    CHECK(json_text(routes[6]["name"]) == "delete-penalty");
    CHECK(json_text(routes[6]["upstream"]) == "penalties");
}

TEST_CASE("access log: a forwarded request's line has every field, with exact byte counts") {
    TempDir dir;
    const fs::path log = dir.path() / "access.log";
    GatewayFixture fixture(logging_to(log));
    const std::string request = get_request(std::string(kBlocks) + "?", "log-get-1");
    const auto answer = send_raw(fixture.port(), request);
    REQUIRE(parse_response(answer.bytes));
    REQUIRE(parse_response(answer.bytes)->status == 200);

    const auto line = wait_for_request(log, "log-get-1");
    CHECK(json_text(line["event"]) == "request");
    CHECK(json_text(line["time"]).size() == 24);  // 2026-11-23T22:40:01.123Z
    CHECK(json_text(line["time"]).back() == 'Z');
    CHECK(json_text(line["client"]) == "127.0.0.1");
    CHECK(json_text(line["method"]) == "GET");
    CHECK(json_text(line["path"]) == kBlocks);
    CHECK(json_text(line["query"]) == "");
    CHECK(json_text(line["route"]) == "get-subscription-blocks");
    CHECK(line["status"].GetInt() == 200);
    CHECK(line["error_code"].IsNull());
    CHECK(json_text(line["upstream"]) == "selfCareSocket");
    CHECK(line["upstream_status"].GetInt() == 200);
    CHECK(json_text(line["upstream_endpoint"]) == "127.0.0.1:" + std::to_string(fixture.mock_port()));
    CHECK(line["upstream_error_body"].IsNull());
    REQUIRE(line["duration_ms"].IsNumber());
    REQUIRE(line["upstream_ms"].IsNumber());
    CHECK(line["upstream_ms"].GetDouble() > 0);
    CHECK(line["duration_ms"].GetDouble() >= line["upstream_ms"].GetDouble());
    CHECK(line["bytes_in"].GetUint64() == request.size());
    CHECK(line["bytes_out"].GetUint64() == answer.bytes.size());
}

TEST_CASE("access log: refusals carry their error code, the route when one matched, no upstream") {
    TempDir dir;
    const fs::path log = dir.path() / "access.log";
    GatewayFixture fixture(logging_to(log));
    const long forwarded_before = mock_request_count(fixture.mock_port());

    send_raw(fixture.port(), get_request("/v2/orgs/telco/subscriptions/abc/blocks", "log-bad-param"));
    send_raw(fixture.port(), get_request("/v2/orgs/telco/nothing?x=1", "log-no-route"));
    // Refused before the head could be parsed: no method, no path, a generated request id.
    const std::string hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);  // a TLS ClientHello
    const auto garbage = send_raw(fixture.port(), hello);
    const auto refused = parse_response(garbage.bytes);
    REQUIRE(refused);
    const std::string garbage_id = refused->header("x-request-id").value_or("");
    REQUIRE(!garbage_id.empty());

    const auto bad_param = wait_for_request(log, "log-bad-param");
    CHECK(bad_param["status"].GetInt() == 400);
    CHECK(bad_param["error_code"].GetInt() == 40001);
    CHECK(json_text(bad_param["route"]) == "get-subscription-blocks");
    CHECK(bad_param["upstream"].IsNull());
    CHECK(bad_param["upstream_status"].IsNull());
    CHECK(bad_param["upstream_endpoint"].IsNull());
    CHECK(bad_param["upstream_error_body"].IsNull());
    CHECK(bad_param["upstream_ms"].IsNull());

    const auto no_route = wait_for_request(log, "log-no-route");
    CHECK(no_route["status"].GetInt() == 404);
    CHECK(no_route["error_code"].GetInt() == 40401);
    CHECK(no_route["route"].IsNull());
    CHECK(json_text(no_route["path"]) == "/v2/orgs/telco/nothing");
    CHECK(json_text(no_route["query"]) == "x=1");

    const auto noise = wait_for_request(log, garbage_id);
    CHECK(noise["status"].GetInt() == 400);
    CHECK(noise["method"].IsNull());
    CHECK(noise["path"].IsNull());
    CHECK(noise["bytes_in"].GetUint64() == 11);
    CHECK(noise["bytes_out"].GetUint64() == garbage.bytes.size());
    CHECK(mock_request_count(fixture.mock_port()) == forwarded_before);
}

TEST_CASE("access log: an upstream error keeps the upstream's status beside the gateway's code") {
    TempDir dir;
    const fs::path log = dir.path() / "access.log";
    GatewayFixture fixture(logging_to(log));
    send_raw(fixture.port(), get_request(kBlocks, "log-upstream-500", "x-mock-fault: html-500\r\n"));
    send_raw(fixture.port(), get_request(kBlocks, "log-upstream-down", "x-mock-fault: close\r\n"));

    const auto html = wait_for_request(log, "log-upstream-500");
    CHECK(html["status"].GetInt() == 500);
    CHECK(html["error_code"].GetInt() == 50090);
    CHECK(json_text(html["upstream"]) == "selfCareSocket");
    CHECK(html["upstream_status"].GetInt() == 500);
    // What the client was not shown of the upstream's answer, and where the request went.
    CHECK(json_text(html["upstream_error_body"]) ==
          "<html><body><h1>500 Internal Server Error</h1></body></html>");
    CHECK(json_text(html["upstream_endpoint"]) == "127.0.0.1:" + std::to_string(fixture.mock_port()));

    const auto down = wait_for_request(log, "log-upstream-down");
    CHECK(down["status"].GetInt() == 502);
    CHECK(down["error_code"].GetInt() == 50202);
    CHECK(json_text(down["upstream"]) == "selfCareSocket");
    CHECK(down["upstream_status"].IsNull());  // no answer came
    CHECK(down["upstream_error_body"].IsNull());
    CHECK(json_text(down["upstream_endpoint"]) == "127.0.0.1:" + std::to_string(fixture.mock_port()));
    CHECK(down["upstream_ms"].IsNumber());
}

TEST_CASE("access log: rename and SIGUSR1 rotate it without losing a line") {
    TempDir dir;
    const fs::path log = dir.path() / "access.log";
    const fs::path rotated = dir.path() / "access.log.1";
    GatewayFixture fixture(logging_to(log));
    HttpClient client = fixture.client();
    REQUIRE(client.send("GET", kBlocks, api_key({{"x-request-id", "before-rotation"}})).status == 200);
    wait_for_request(log, "before-rotation");

    fs::rename(log, rotated);
    // Lines written between the rename and the signal still go to the renamed file.
    REQUIRE(client.send("GET", kBlocks, api_key({{"x-request-id", "between"}})).status == 200);
    wait_for_request(rotated, "between");
    REQUIRE(::kill(fixture.gateway().process().pid(), SIGUSR1) == 0);
    REQUIRE(poll_until([&] { return fs::exists(log); }, Clock::now() + milliseconds(3000)));
    REQUIRE(client.send("GET", kBlocks, api_key({{"x-request-id", "after-rotation"}})).status == 200);

    const auto after = wait_for_request(log, "after-rotation");
    CHECK(after["status"].GetInt() == 200);
    CHECK_THAT(read_file(rotated), Contains("before-rotation"));
    CHECK_THAT(read_file(rotated), !Contains("after-rotation"));
    CHECK_THAT(read_file(log), !Contains("before-rotation"));
    CHECK(fixture.gateway().process().running());
}

TEST_CASE("access log: a reload writes a line with the new route table") {
    TempDir dir;
    const fs::path log = dir.path() / "access.log";
    std::string yaml = project_routes_text();
    const std::string config = dir.write("routes.yaml", yaml);
    GatewayFixture fixture(logging_to(log, config));

    const std::size_t start = yaml.find("  - name: delete-penalty\n");
    REQUIRE(start != std::string::npos);
    yaml.erase(start);
    dir.write("routes.yaml", yaml);
    ::kill(fixture.gateway().process().pid(), SIGHUP);
    REQUIRE(poll_until(
        [&] {
            for (const auto& line : log_lines(log)) {
                if (json_text(line["event"]) == "config_reloaded") return line["routes"].Size() == 6;
            }
            return false;
        },
        Clock::now() + milliseconds(3000)));
}

TEST_CASE("access log: - writes the lines to standard output") {
    GatewayOptions options;
    options.extra_args = {"--access-log", "-"};
    GatewayFixture fixture(options);
    REQUIRE(fixture.client().send("GET", kBlocks, api_key({{"x-request-id", "to-stdout"}})).status == 200);
    // Lines other than JSON (the "listening on" ones) share standard output; skip them.
    const auto deadline = Clock::now() + milliseconds(3000);
    std::optional<std::string> line;
    while ((line = fixture.gateway().process().wait_for_line(R"({"time":)", deadline))) {
        if (line->find(R"("request_id":"to-stdout")") != std::string::npos) break;
    }
    REQUIRE(line);
    CHECK_THAT(*line, Contains(R"("event":"request")"));
    CHECK_THAT(*line, Contains(R"("status":200)"));
}

TEST_CASE("access log: a path that cannot be opened stops the start with a clear message") {
    const auto result = run_to_completion(
        GATEWAY_BIN, {"--config", project_routes_yaml(), "--listen", "127.0.0.1:0", "--access-log",
                      "/nonexistent-dir/access.log"});
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.err, Contains("cannot open the access log /nonexistent-dir/access.log"));
    CHECK_THAT(result.err, Contains("No such file or directory"));
}
