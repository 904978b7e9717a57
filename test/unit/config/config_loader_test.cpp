#include <catch2/catch.hpp>

#include <algorithm>

#include "config/config_loader.hpp"
#include "config/temp_config.hpp"

using namespace gateway;

namespace {

const std::string kUpstreams = R"(upstreams:
  backend:
    endpoints: [127.0.0.1:9001]
)";

// The diagnostics' text, one per line, without the file name in front.
std::vector<std::string> problems(const LoadResult& result) {
    std::vector<std::string> out;
    for (const auto& d : result.diagnostics) {
        out.push_back(std::to_string(d.line) + ":" + std::to_string(d.column) + ": " + d.message);
    }
    return out;
}

bool has_problem(const LoadResult& result, const std::string& line_col, const std::string& words) {
    const auto all = problems(result);
    UNSCOPED_INFO("diagnostics: " << Catch::Detail::stringify(all));
    return std::any_of(all.begin(), all.end(), [&](const std::string& p) {
        return p.rfind(line_col + ": ", 0) == 0 && p.find(words) != std::string::npos;
    });
}

}  // namespace

TEST_CASE("the project's routes.yaml loads with its seven routes") {
    const auto result = load_config(std::string(TEST_SOURCE_DIR) + "/routes.yaml");
    INFO(Catch::Detail::stringify(problems(result)));
    REQUIRE(result.config);
    CHECK(result.config->routes.size() == 7);
    CHECK(result.config->upstreams.size() == 2);
    const auto& patch = result.config->routes[1];
    CHECK(patch.method == "PATCH");
    REQUIRE(patch.body_schema);
    CHECK(patch.path_params.back().type.allowed_integers == std::vector<std::int64_t>{1, 2});
}

TEST_CASE("a full route definition loads every field") {
    TempConfig dir;
    const auto path = dir.write(kUpstreams + R"(limits:
  max_body_bytes: 2048
routes:
  - name: r1
    method: PUT
    path: /a/{id:int64}/{kind:enum}
    path_params:
      id: {min: 1, max: 100}
      kind: {values: [x, y]}
    query:
      q: {type: int32_array}
      r: {type: string, required: true, max_length: 5}
    body: schemas/BlockStatus.json
    max_body_bytes: 100
    roles: [API_KEY, ADMIN]
    upstream: backend
    rewrite: /internal/{kind}/{id}
)");
    const auto result = load_config(path);
    INFO(Catch::Detail::stringify(problems(result)));
    REQUIRE(result.config);
    const auto& route = result.config->routes.at(0);
    CHECK(route.path_params[0].type.min == 1);
    CHECK(route.path_params[0].type.max == 100);
    CHECK(route.path_params[1].type.allowed_strings == std::vector<std::string>{"x", "y"});
    CHECK(route.query_params[0].type.kind == ParamKind::int32_array);
    CHECK_FALSE(route.query_params[0].required);
    CHECK(route.query_params[1].required);
    CHECK(route.query_params[1].type.max_length == 5u);
    CHECK(route.max_body_bytes == 100);
    CHECK(route.roles.size() == 2);
    REQUIRE(route.rewrite);
    CHECK(route.rewrite->text() == "/internal/{kind}/{id}");
}

TEST_CASE("route max_body_bytes defaults to limits.max_body_bytes") {
    TempConfig dir;
    const auto path = dir.write(kUpstreams + R"(limits:
  max_body_bytes: 2048
routes:
  - {name: r, method: POST, path: /a, body: schemas/BlockStatus.json, roles: [A], upstream: backend}
)");
    const auto result = load_config(path);
    REQUIRE(result.config);
    CHECK(result.config->routes[0].max_body_bytes == 2048);
}

TEST_CASE("unknown keys are errors at their line and column") {
    TempConfig dir;
    const auto path = dir.write(kUpstreams + R"(routes:
  - name: r
    metod: GET
    path: /a
    roles: [A]
    upstream: backend
)");
    const auto result = load_config(path);
    CHECK_FALSE(result.config);
    CHECK(has_problem(result, "6:5", "unknown key 'metod' in route"));
    CHECK(has_problem(result, "5:5", "route 'r' needs 'method' (GET, HEAD"));
}

TEST_CASE("diagnostics print as file:line:col: message") {
    TempConfig dir;
    const auto path = dir.write("routes: []\nupstreams: {}\nextra: 1\n");
    const auto result = load_config(path);
    REQUIRE_FALSE(result.diagnostics.empty());
    const auto text = result.diagnostics.front().to_string();
    CHECK(text.rfind(path + ":", 0) == 0);
    CHECK(has_problem(result, "3:1", "unknown key 'extra' in the top level"));
}

TEST_CASE("unknown upstreams, types, methods and missing schemas are each reported") {
    TempConfig dir;
    const auto path = dir.write(kUpstreams + R"(routes:
  - name: a
    method: GET
    path: /a
    roles: [A]
    upstream: nowhere
  - name: b
    method: get
    path: /b/{x:integer}
    roles: [A]
    upstream: backend
  - name: c
    method: POST
    path: /c
    body: schemas/Missing.json
    roles: [A]
    upstream: backend
  - name: d
    method: GET
    path: /d
    query:
      q: {type: float}
    roles: [A]
    upstream: backend
)");
    const auto result = load_config(path);
    CHECK_FALSE(result.config);
    CHECK(has_problem(result, "9:15", "unknown upstream 'nowhere' (defined: backend)"));
    CHECK(has_problem(result, "11:13", "unknown method 'get'"));
    CHECK(has_problem(result, "12:17", "unknown path parameter type 'integer'"));
    CHECK(has_problem(result, "18:11", "schema file 'schemas/Missing.json' not found"));
    CHECK(has_problem(result, "25:17", "unknown type 'float'"));
    CHECK(result.diagnostics.size() == 5);
}

TEST_CASE("duplicate and ambiguous routes name the route they clash with") {
    TempConfig dir;
    const auto path = dir.write(kUpstreams + R"(routes:
  - {name: first, method: GET, path: "/a/{x:int64}", roles: [A], upstream: backend}
  - {name: second, method: GET, path: "/a/{x:int64}", roles: [A], upstream: backend}
  - {name: third, method: GET, path: "/a/{y:uuid}", roles: [A], upstream: backend}
  - {name: fourth, method: PUT, path: "/a/{y:uuid}", roles: [A], upstream: backend}
)");
    const auto result = load_config(path);
    CHECK_FALSE(result.config);
    CHECK(has_problem(result, "6:39", "duplicate route: GET /a/{x:int64} is already defined by route 'first' (line 5)"));
    CHECK(has_problem(result, "7:38", "ambiguous route: GET /a/{y:uuid} matches the same paths as /a/{x:int64} of route 'first'"));
    CHECK(result.diagnostics.size() == 2);
}

TEST_CASE("duplicated YAML keys and route names are errors") {
    TempConfig dir;
    const auto path = dir.write(kUpstreams + R"(routes:
  - name: r
    method: GET
    method: PUT
    path: /a
    roles: [A]
    upstream: backend
  - {name: r, method: GET, path: /b, roles: [A], upstream: backend}
)");
    const auto result = load_config(path);
    CHECK(has_problem(result, "7:5", "duplicate key 'method'"));
    CHECK(has_problem(result, "11:12", "route name 'r' is used twice"));
}

TEST_CASE("constraints must fit the parameter type") {
    TempConfig dir;
    const auto path = dir.write(kUpstreams + R"(routes:
  - name: r
    method: GET
    path: /a/{id:uuid}/{k:enum}/{n:int32}
    path_params:
      id: {min: 1}
      k: {}
      n: {min: 5, max: 1}
      ghost: {min: 1}
    query:
      s: {type: string, values: [a]}
    roles: [A]
    upstream: backend
)");
    const auto result = load_config(path);
    CHECK_FALSE(result.config);
    CHECK(has_problem(result, "9:17", "'min' does not apply to path parameter 'id'"));
    CHECK(has_problem(result, "10:10", "path parameter 'k' is an enum and needs 'values'"));
    CHECK(has_problem(result, "11:16", "min is greater than max"));
    CHECK(has_problem(result, "12:7", "path_params names 'ghost', which is not a parameter of the path"));
    CHECK(has_problem(result, "14:33", "'values' does not apply to query parameter 's'"));
}

TEST_CASE("integers must be plain integers in range") {
    TempConfig dir;
    const auto path = dir.write(R"(upstreams:
  backend:
    endpoints: [127.0.0.1:9001, "localhost:0", nohost]
    request_timeout_ms: "100"
    pool_size: 0
routes:
  - {name: r, method: GET, path: /a, roles: [], upstream: backend}
)");
    const auto result = load_config(path);
    CHECK(has_problem(result, "3:33", "endpoint 'localhost:0' of upstream 'backend' must be HOST:PORT"));
    CHECK(has_problem(result, "3:48", "endpoint 'nohost'"));
    CHECK(has_problem(result, "4:25", "request_timeout_ms must be an integer, got '100'"));
    CHECK(has_problem(result, "5:16", "pool_size must be between 1 and 100000, got 0"));
    CHECK(has_problem(result, "7:45", "roles must not be empty"));
}

TEST_CASE("YAML syntax errors carry their position") {
    TempConfig dir;
    const auto path = dir.write("routes:\n  - name: [unclosed\n");
    const auto result = load_config(path);
    REQUIRE(result.diagnostics.size() == 1);
    CHECK(result.diagnostics[0].message.rfind("YAML syntax error", 0) == 0);
    CHECK(result.diagnostics[0].line >= 2);
}

TEST_CASE("a missing config file is one diagnostic without position") {
    const auto result = load_config("/nonexistent/routes.yaml");
    REQUIRE(result.diagnostics.size() == 1);
    CHECK(result.diagnostics[0].to_string() == "/nonexistent/routes.yaml: cannot open the file");
}

TEST_CASE("schemas must be valid draft-04 JSON") {
    TempConfig dir;
    dir.write("{\"type\": \"object\",\n \"properties\": {,}}", "schemas/Broken.json");
    dir.write(R"({"$schema": "http://json-schema.org/draft-07/schema#"})", "schemas/Draft7.json");
    dir.write(R"({"properties": {"if": {"const": 1}}})", "schemas/Const.json");
    const auto path = dir.write(kUpstreams + R"(routes:
  - {name: a, method: POST, path: /a, body: schemas/Broken.json, roles: [A], upstream: backend}
  - {name: b, method: POST, path: /b, body: schemas/Draft7.json, roles: [A], upstream: backend}
  - {name: c, method: POST, path: /c, body: schemas/Const.json, roles: [A], upstream: backend}
  - {name: d, method: GET, path: /d, body: schemas/BlockStatus.json, roles: [A], upstream: backend}
)");
    const auto result = load_config(path);
    CHECK(has_problem(result, "5:45", "schema 'schemas/Broken.json' is not valid JSON: 2:17"));
    CHECK(has_problem(result, "6:45", "must be JSON Schema draft-04"));
    CHECK(has_problem(result, "7:45", "uses #/properties/if/const, which draft-04 does not have"));
    CHECK(has_problem(result, "8:44", "a GET route cannot take a body"));
}

TEST_CASE("schemas may $ref sibling files") {
    TempConfig dir;
    const auto path = dir.write(kUpstreams + R"(routes:
  - {name: a, method: POST, path: /a, body: schemas/SubscriptionBlocks.json, roles: [A], upstream: backend}
)");
    const auto result = load_config(path);
    INFO(Catch::Detail::stringify(problems(result)));
    CHECK(result.config);
}

TEST_CASE("rewrite may only use the path's parameters") {
    TempConfig dir;
    const auto path = dir.write(kUpstreams + R"(routes:
  - {name: a, method: GET, path: "/a/{x}", rewrite: "/b/{y}", roles: [A], upstream: backend}
)");
    const auto result = load_config(path);
    CHECK(has_problem(result, "5:53", "rewrite uses '{y}', which is not a parameter of the path"));
}

TEST_CASE("command-line overrides replace endpoints and timeouts") {
    ConfigOverrides overrides;
    overrides.upstream_endpoints["penalties"] = {Endpoint{"127.0.0.1", 7000}};
    overrides.upstream_request_timeout = std::chrono::milliseconds(250);
    const auto result = load_config(std::string(TEST_SOURCE_DIR) + "/routes.yaml", overrides);
    REQUIRE(result.config);
    for (const auto& upstream : result.config->upstreams) {
        CHECK(upstream.request_timeout == std::chrono::milliseconds(250));
        if (upstream.name == "penalties") CHECK(upstream.endpoints.at(0).port == 7000);
    }

    ConfigOverrides unknown;
    unknown.upstream_endpoints["nope"] = {Endpoint{"127.0.0.1", 7000}};
    const auto refused = load_config(std::string(TEST_SOURCE_DIR) + "/routes.yaml", unknown);
    CHECK_FALSE(refused.config);
    CHECK(refused.diagnostics.at(0).to_string().find("--upstream: no upstream named 'nope'") == 0);
}

TEST_CASE("endpoints parse host:port and [v6]:port") {
    CHECK(parse_endpoint("127.0.0.1:80")->port == 80);
    CHECK(parse_endpoint("[::1]:8080")->host == "::1");
    CHECK(parse_endpoint("backend.local:9000")->host == "backend.local");
    CHECK_FALSE(parse_endpoint("127.0.0.1"));
    CHECK_FALSE(parse_endpoint("127.0.0.1:0"));
    CHECK_FALSE(parse_endpoint("127.0.0.1:65536"));
    CHECK_FALSE(parse_endpoint("::1:80"));
    CHECK_FALSE(parse_endpoint(":80"));
}

TEST_CASE("client-side limits load from the limits block and have defaults") {
    TempConfig dir;
    const auto defaults = load_config(dir.write(kUpstreams + R"(routes:
  - {name: r, method: GET, path: /a, roles: [A], upstream: backend}
)"));
    REQUIRE(defaults.config);
    CHECK(defaults.config->limits.max_header_bytes == 16 * 1024);
    CHECK(defaults.config->limits.header_timeout == std::chrono::milliseconds(10'000));
    CHECK(defaults.config->limits.idle_timeout == std::chrono::milliseconds(60'000));
    CHECK(defaults.config->limits.body_timeout == std::chrono::milliseconds(30'000));
    CHECK(defaults.config->limits.max_connections == 10'000);

    const auto set = load_config(dir.write(kUpstreams + R"(limits:
  max_header_bytes: 4096
  header_timeout_ms: 500
  idle_timeout_ms: 1000
  body_timeout_ms: 700
  max_connections: 20
routes:
  - {name: r, method: GET, path: /a, roles: [A], upstream: backend}
)", "set.yaml"));
    REQUIRE(set.config);
    CHECK(set.config->limits.max_header_bytes == 4096);
    CHECK(set.config->limits.header_timeout == std::chrono::milliseconds(500));
    CHECK(set.config->limits.idle_timeout == std::chrono::milliseconds(1000));
    CHECK(set.config->limits.body_timeout == std::chrono::milliseconds(700));
    CHECK(set.config->limits.max_connections == 20);

    const auto bad = load_config(dir.write(kUpstreams + R"(limits:
  max_header_bytes: 10
  idle_timeout: 5
routes:
  - {name: r, method: GET, path: /a, roles: [A], upstream: backend}
)", "bad.yaml"));
    CHECK(has_problem(bad, "5:21", "limits.max_header_bytes must be between 1024 and 1048576"));
    CHECK(has_problem(bad, "6:3", "unknown key 'idle_timeout' in limits"));
}
