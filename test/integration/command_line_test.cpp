// 10. The command line: --check, diagnostics with file:line:col, refusing to start on a bad
// config, --help and --version.

#include <catch2/catch.hpp>

#include <signal.h>

#include <sstream>

#include "support/gateway_fixture.hpp"

using namespace test_support;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

const std::string kUpstreams = R"(upstreams:
  backend:
    endpoints: [127.0.0.1:9001]
)";

/// "LINE:COL" of the first occurrence of `needle` in `text`, 1-based, for the expected
/// position of a diagnostic.
std::string position_of(const std::string& text, const std::string& needle) {
    const auto at = text.find(needle);
    REQUIRE(at != std::string::npos);
    int line = 1, column = 1;
    for (std::size_t i = 0; i < at; ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return std::to_string(line) + ":" + std::to_string(column);
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

/// True when some stderr line starts with "FILE:LINE:COL: " and contains `words`.
bool has_diagnostic(const std::string& err, const std::string& file, const std::string& line_col,
                    const std::string& words) {
    for (const auto& line : lines_of(err)) {
        if (line.rfind(file + ":" + line_col + ": ", 0) == 0 && line.find(words) != std::string::npos) {
            return true;
        }
    }
    return false;
}

// One mistake per route; each route is otherwise valid, so each diagnostic stands alone.
const std::string kBadConfig = kUpstreams + R"(routes:
  - name: typo
    metod: GET
    path: /typo
    roles: [API_KEY]
    upstream: backend
  - name: nowhere
    method: GET
    path: /nowhere
    roles: [API_KEY]
    upstream: elsewhere
  - name: no-schema
    method: PATCH
    path: /no-schema
    body: schemas/Missing.json
    roles: [API_KEY]
    upstream: backend
  - name: dup-1
    method: GET
    path: /dup
    roles: [API_KEY]
    upstream: backend
  - name: dup-2
    method: GET
    path: /dup
    roles: [API_KEY]
    upstream: backend
  - name: by-id
    method: GET
    path: /a/{x:int64}
    roles: [API_KEY]
    upstream: backend
  - name: by-uuid
    method: GET
    path: /a/{y:uuid}
    roles: [API_KEY]
    upstream: backend
  - name: bad-type
    method: GET
    path: /t/{id:integer}
    roles: [API_KEY]
    upstream: backend
  - name: bad-query-type
    method: GET
    path: /q
    query:
      n: {type: number}
    roles: [API_KEY]
    upstream: backend
)";

}  // namespace

TEST_CASE("gateway --check --config routes.yaml exits 0 and reports 7 routes") {
    const auto result = run_to_completion(GATEWAY_BIN, {"--check", "--config", project_routes_yaml()});
    INFO("stdout: " << result.out << "\nstderr: " << result.err);
    CHECK(result.exit_code == 0);
    CHECK_THAT(result.out, Contains("OK, 7 routes, 2 upstreams"));
    CHECK(result.err.empty());
}

TEST_CASE("gateway --check names every mistake of a config as FILE:LINE:COL: message and exits 1") {
    TempDir dir;
    const std::string file = dir.write("routes.yaml", kBadConfig);
    const auto result = run_to_completion(GATEWAY_BIN, {"--check", "--config", file});
    INFO("stdout: " << result.out << "\nstderr: " << result.err);
    CHECK(result.exit_code == 1);

    SECTION("unknown key metod") {
        CHECK(position_of(kBadConfig, "metod") == "6:5");
        CHECK(has_diagnostic(result.err, file, "6:5", "unknown key 'metod'"));
    }
    SECTION("unknown upstream") {
        CHECK(position_of(kBadConfig, "elsewhere") == "14:15");
        CHECK(has_diagnostic(result.err, file, "14:15", "unknown upstream 'elsewhere'"));
    }
    SECTION("missing schema file") {
        CHECK(has_diagnostic(result.err, file, position_of(kBadConfig, "schemas/Missing.json"),
                             "Missing.json"));
    }
    SECTION("duplicate route") {
        // The second /dup, on line 28; the message points back at the first route's line 21.
        CHECK(position_of(kBadConfig, "/dup\n    roles: [API_KEY]\n    upstream: backend\n  - name: by-id") ==
              "28:11");
        CHECK(has_diagnostic(result.err, file, "28:11", "duplicate route: GET /dup"));
        CHECK(has_diagnostic(result.err, file, "28:11", "'dup-1' (line 21)"));
    }
    SECTION("ambiguous templates with the same method") {
        CHECK(has_diagnostic(result.err, file, position_of(kBadConfig, "/a/{y:uuid}"),
                             "ambiguous route: GET /a/{y:uuid}"));
        CHECK(has_diagnostic(result.err, file, position_of(kBadConfig, "/a/{y:uuid}"), "/a/{x:int64}"));
    }
    SECTION("unknown path parameter type, pointing at the type") {
        CHECK(position_of(kBadConfig, "integer}") == "43:18");
        CHECK(has_diagnostic(result.err, file, "43:18", "unknown path parameter type 'integer'"));
    }
    SECTION("unknown query parameter type") {
        CHECK(has_diagnostic(result.err, file, position_of(kBadConfig, "number}"),
                             "unknown type 'number'"));
    }
    SECTION("a summary line counting the diagnostics, and nothing on stdout") {
        std::size_t diagnostics = 0;
        for (const auto& line : lines_of(result.err)) {
            if (line.rfind(file + ":", 0) == 0) ++diagnostics;
        }
        CHECK(diagnostics >= 7);
        CHECK_THAT(result.err, Contains("gateway: " + std::to_string(diagnostics) + " problem(s) in " + file));
        CHECK(result.out.empty());
    }
}

TEST_CASE("a diagnostic for the second of two identical keys points at that key") {
    TempDir dir;
    const std::string config = kUpstreams + R"(routes:
  - name: twice
    method: GET
    path: /twice
    roles: [API_KEY]
    upstream: backend
    method: PUT
)";
    const std::string file = dir.write("routes.yaml", config);
    const auto result = run_to_completion(GATEWAY_BIN, {"--check", "--config", file});
    INFO(result.err);
    CHECK(result.exit_code == 1);
    CHECK(has_diagnostic(result.err, file, "10:5", "duplicate key 'method'"));
}

TEST_CASE("the gateway refuses to start with a config that has mistakes: exit 1, no listening line") {
    TempDir dir;
    const std::string file = dir.write("routes.yaml", kBadConfig);
    const auto result = run_to_completion(
        GATEWAY_BIN, {"--config", file, "--listen", "127.0.0.1:0", "--threads", "1"});
    INFO("stdout: " << result.out << "\nstderr: " << result.err);
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.out, !Contains("listening on"));
    CHECK(has_diagnostic(result.err, file, "6:5", "unknown key 'metod'"));
    CHECK_THAT(result.err, Contains("not starting"));
}

TEST_CASE("a config whose YAML does not parse is reported with its position and exit 1") {
    TempDir dir;
    const std::string file = dir.write("routes.yaml", kUpstreams + "routes:\n  - name: [unclosed\n");
    const auto result = run_to_completion(GATEWAY_BIN, {"--check", "--config", file});
    INFO(result.err);
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.err, StartsWith(file + ":"));
    CHECK_THAT(result.err, Contains("YAML syntax error"));
}

TEST_CASE("a config file that does not exist is exit 1 naming the file") {
    const std::string file = std::string(TEST_SOURCE_DIR) + "/no-such-routes.yaml";
    const auto result = run_to_completion(GATEWAY_BIN, {"--check", "--config", file});
    INFO(result.err);
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.err, Contains(file) && Contains("cannot open"));
}

TEST_CASE("a config in another directory finds its schemas relative to itself") {
    TempDir dir;
    const std::string file = dir.write("conf/routes.yaml", kUpstreams + R"(routes:
  - name: patch
    method: PATCH
    path: /p
    body: ../schemas/BlockStatus.json
    roles: [API_KEY]
    upstream: backend
)");
    const auto result = run_to_completion(GATEWAY_BIN, {"--check", "--config", file});
    INFO(result.err);
    CHECK(result.exit_code == 0);
}

TEST_CASE("an --upstream override naming an upstream the config does not have is exit 1") {
    const auto result = run_to_completion(
        GATEWAY_BIN, {"--config", project_routes_yaml(), "--listen", "127.0.0.1:0", "--upstream",
                      "selfcaresocket=127.0.0.1:9"});
    INFO("stdout: " << result.out << "\nstderr: " << result.err);
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.out, !Contains("listening on"));
    CHECK_THAT(result.err, Contains("no upstream named 'selfcaresocket'"));
}

TEST_CASE("gateway --help and --version exit 0") {
    SECTION("--help") {
        const auto result = run_to_completion(GATEWAY_BIN, {"--help"});
        CHECK(result.exit_code == 0);
        CHECK_THAT(result.out, Contains("Usage") && Contains("--config") && Contains("--check"));
        // Every admin endpoint is named, /metrics included.
        CHECK_THAT(result.out, Contains("/healthz") && Contains("/readyz") && Contains("/routes") && Contains("/metrics"));
    }
    SECTION("--version") {
        const auto result = run_to_completion(GATEWAY_BIN, {"--version"});
        CHECK(result.exit_code == 0);
        CHECK_THAT(result.out, StartsWith("gateway "));
        CHECK_THAT(result.out, Contains(GATEWAY_EXPECT_MIMALLOC ? "(malloc: mimalloc 2." : "(malloc: glibc)"));
    }
}

TEST_CASE("a bad command line exits 2 with the usage") {
    SECTION("no --config") {
        const auto result = run_to_completion(GATEWAY_BIN, {"--listen", "127.0.0.1:0"});
        CHECK(result.exit_code == 2);
        CHECK_THAT(result.err, Contains("--config is required") && Contains("Usage"));
    }
    SECTION("an unknown option") {
        const auto result = run_to_completion(GATEWAY_BIN, {"--config", project_routes_yaml(), "--bogus"});
        CHECK(result.exit_code == 2);
    }
    SECTION("--upstream-timeout-ms 0") {
        const auto result = run_to_completion(
            GATEWAY_BIN, {"--config", project_routes_yaml(), "--upstream-timeout-ms", "0"});
        CHECK(result.exit_code == 2);
        CHECK_THAT(result.err, Contains("--upstream-timeout-ms"));
    }
}

TEST_CASE("the gateway serves a config written by a test, with its own schema and route") {
    TempDir dir;
    const std::string file = dir.write("routes.yaml", R"(upstreams:
  selfCareSocket:
    endpoints: [127.0.0.1:9001]
  penalties:
    endpoints: [127.0.0.1:9002]
routes:
  - name: small-patch
    method: PATCH
    path: /v2/orgs/{orgId}/subscriptions/{subscriptionId:int64}/blocks/{blockId:int32}
    body: schemas/BlockStatus.json
    max_body_bytes: 64
    roles: [ADMIN]
    upstream: selfCareSocket
)");
    GatewayOptions options;
    options.config_path = file;
    GatewayFixture fixture(options);
    auto client = fixture.client();
    const Headers json = {{"x-auth-roles", "ADMIN"}, {"Content-Type", "application/json"}};
    CHECK(client.send("PATCH", "/v2/orgs/telco/subscriptions/1/blocks/7", json, R"({"active":true})")
              .status == 201);
    CHECK(client.send("PATCH", "/v2/orgs/telco/subscriptions/1/blocks/7",
                      {{"x-auth-roles", "API_KEY"}, {"Content-Type", "application/json"}},
                      R"({"active":true})")
              .status == 403);
    CHECK(client.send("PATCH", "/v2/orgs/telco/subscriptions/1/blocks/7", json,
                      R"({"active":true,"reason":")" + std::string(60, 'x') + "\"}")
              .status == 413);
    const auto get = client.send("GET", "/v2/orgs/telco/subscriptions/1/blocks/7", {{"x-auth-roles", "ADMIN"}});
    CHECK(get.status == 405);
    CHECK(get.header("Allow") == "PATCH");
    // The project's other routes are not in this config.
    CHECK(client.send("GET", "/v2/orgs/telco/subscriptions/1/blocks", {{"x-auth-roles", "ADMIN"}})
              .status == 404);
}

TEST_CASE("SIGTERM right after the listening line stops the gateway cleanly with exit 0") {
    // A supervisor may stop the gateway as soon as it reports ready. With many workers the
    // start-up has more to do after printing the line, which makes a late handler visible.
    for (int attempt = 0; attempt < 3; ++attempt) {
        ChildProcess gateway(GATEWAY_BIN, {"--config", project_routes_yaml(), "--listen",
                                           "127.0.0.1:0", "--threads", "64"});
        REQUIRE(gateway.wait_for_line("listening on ", deadline_in(kStartupTimeout)));
        REQUIRE(::kill(gateway.pid(), SIGTERM) == 0);
        const auto code = gateway.wait_for_exit(deadline_in(std::chrono::milliseconds(5000)));
        INFO("attempt " << attempt << "; 143 is 128 + SIGTERM: killed by the signal's default action");
        REQUIRE(code);
        CHECK(*code == 0);
    }
}

TEST_CASE("SIGTERM after serving requests stops the gateway") {
    GatewayFixture fixture;
    auto client = fixture.client();
    REQUIRE(client.send("GET", "/v2/orgs/telco/subscriptions/1/blocks", api_key()).status == 200);
    auto& process = fixture.gateway().process();
    REQUIRE(::kill(process.pid(), SIGTERM) == 0);
    CHECK(process.wait_for_exit(deadline_in(std::chrono::milliseconds(3000))));
}

TEST_CASE("gateway --check warns, with its position, about an upstream that exposes its error bodies, and still passes") {
    TempDir dir;
    const std::string text = R"(upstreams:
  backend:
    endpoints: [127.0.0.1:9001]
    expose_error_body: true
  quiet:
    endpoints: [127.0.0.1:9002]
    expose_error_body: false
routes:
  - {name: r, method: GET, path: /r, roles: [API_KEY], upstream: backend}
  - {name: q, method: GET, path: /q, roles: [API_KEY], upstream: quiet}
)";
    const std::string file = dir.write("routes.yaml", text);
    const auto result = run_to_completion(GATEWAY_BIN, {"--check", "--config", file});
    INFO("stdout: " << result.out << "\nstderr: " << result.err);
    CHECK(result.exit_code == 0);
    CHECK_THAT(result.err, Contains(file + ":4:24: warning: upstream 'backend' expose_error_body: true"));
    CHECK_THAT(result.err, !Contains("'quiet'"));
    CHECK_THAT(result.out, Contains("OK, 2 routes"));
    // Not a boolean: an error like any other.
    const std::string bad = dir.write("bad.yaml", kUpstreams + "    expose_error_body: sometimes\n" +
                                                      "routes:\n  - {name: r, method: GET, path: /r, "
                                                      "roles: [A], upstream: backend}\n");
    const auto refused = run_to_completion(GATEWAY_BIN, {"--check", "--config", bad});
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.err, Contains("expose_error_body must be true or false"));
}
