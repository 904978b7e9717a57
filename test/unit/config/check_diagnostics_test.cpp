// What `gateway --check` tells an operator about a broken routes.yaml, one row per mistake:
// the text (the project's routes.yaml with one edit, or a whole file), where the diagnostic
// must point, and words it must say. Every diagnostic must be one line and point inside the
// file. Every new config key of later issues adds its rows here: a misspelling, a wrong type,
// a value out of range.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "config/config_loader.hpp"
#include "config/temp_config.hpp"

using namespace gateway;

namespace {

struct Row {
    const char* mistake;
    std::string from;  // replaced (first occurrence) in the project's routes.yaml; empty: `to` is the file
    std::string to;
    int line;
    int column;
    std::string fragment;
    std::string schema = {};  // when set, written to schemas/Bad.json
};

const Row kRows[] = {
    // Unclosed quotes and brackets: at the opener, not where YAML gives up (or never does).
    {"unclosed double quote on a path", "    path: /v2/orgs/{orgId}/penalties/{accountId:int64}\n",
     "    path: \"/v2/orgs/{orgId}/penalties/{accountId:int64}\n", 39, 11,
     "the double quote opened here is not closed before line 40"},
    {"unclosed double quote on a name", "  - name: get-account-penalties\n",
     "  - name: \"get-account-penalties\n", 37, 11, "double quote opened here is not closed"},
    {"unclosed single quote before a blank line", "    upstream: penalties\n\n  - name: get-subscription-penalties\n",
     "    upstream: 'penalties\n\n  - name: get-subscription-penalties\n", 43, 15,
     "single quote opened here is not closed before line 45"},
    {"unclosed list of roles", "    roles: [API_KEY]\n    upstream: selfCareSocket\n\n  - name: patch",
     "    roles: [API_KEY\n    upstream: selfCareSocket\n\n  - name: patch", 24, 12,
     "the '[' of this list opened here is not closed before line 25"},
    {"unclosed flow mapping", "      blockId: {values: [1, 2]}\n", "      blockId: {values: [1, 2]\n", 31, 16,
     "the '{' of this mapping opened here is not closed"},
    {"unclosed list of endpoints", "    endpoints: [127.0.0.1:9002]\n", "    endpoints: [127.0.0.1:9002\n", 14, 16,
     "'[' of this list opened here is not closed before line 15"},
    {"unclosed bracket at the end of the file", "", "routes:\n  - name: [unclosed\n", 2, 11,
     "not closed by the end of the file"},
    {"a bracket closed by the wrong closer", "      blockId: {values: [1, 2]}\n",
     "      blockId: {values: [1, 2}}\n", 31, 30, "'}' here does not match the '[' opened at 31:25 (expected ']')"},
    // Other YAML syntax: one line, at the line to fix.
    {"a tab in the indentation", "    method: GET\n    path: /v2/orgs/{orgId}/subscriptions/{subscriptionId:int64}/blocks\n",
     "\tmethod: GET\n    path: /v2/orgs/{orgId}/subscriptions/{subscriptionId:int64}/blocks\n", 22, 1,
     "replace the tab with spaces"},
    {"a key without its colon", "    method: PATCH\n", "    method PATCH\n", 28, 5,
     "the ':' after the key is missing (method: PATCH)"},
    {"a colon without a space", "    method: PATCH\n", "    method:PATCH\n", 28, 5, "a space must follow the ':'"},
    {"a line indented less than its siblings", "    method: PATCH\n", "   method: PATCH\n", 28, 4,
     "does not line up"},
    {"a file that is a list", "", "- a\n- b\n", 1, 1, "must be a mapping with 'upstreams' and 'routes', got a list"},
    // Numbers.
    {"a timeout too large for any integer", "    request_timeout_ms: 10000\n    pool_size: 64",
     "    request_timeout_ms: 99999999999999999999\n    pool_size: 64", 11, 25,
     "must be between 1 and 3600000, got 99999999999999999999 (out of range)"},
    {"a timeout with a unit", "    connect_timeout_ms: 1000\n", "    connect_timeout_ms: 1s\n", 10, 25,
     "got '1s' (write a plain number of milliseconds, without a unit)"},
    {"a size with a unit", "  max_body_bytes: 1048576", "  max_body_bytes: 1MB", 5, 19, "1 MiB is 1048576"},
    {"a fractional pool size", "    pool_size: 64 ", "    pool_size: 6.5 ", 12, 16, "a whole number is expected"},
    {"a quoted number", "    connect_timeout_ms: 1000\n", "    connect_timeout_ms: \"1000\"\n", 10, 25,
     "quoted, so a string: write it without quotes"},
    {"a negative timeout", "    connect_timeout_ms: 1000\n", "    connect_timeout_ms: -5\n", 10, 25,
     "must be between 1 and 3600000, got -5"},
    {"an empty list of integer values", "blockId: {values: [1, 2]}", "blockId: {values: []}", 31, 25,
     "values must not be empty"},
    {"min above max", "blockId: {values: [1, 2]}", "blockId: {min: 5, max: 1}", 31, 22,
     "min is greater than max (5 > 1)"},
    // Endpoints.
    {"IPv6 loopback without brackets", "[127.0.0.1:9001]", "[::1:9001]", 9, 17,
     "write IPv6 addresses in brackets: [::1]:9001"},
    {"IPv6 link-local without brackets", "[127.0.0.1:9001]", "[fe80::1:9001]", 9, 17, "[fe80::1]:9001"},
    {"an endpoint without a port", "[127.0.0.1:9001]", "[127.0.0.1]", 9, 17, "there is no port: write 127.0.0.1:PORT"},
    {"an endpoint with a scheme", "[127.0.0.1:9001]", "[http://127.0.0.1:9001]", 9, 17,
     "without a scheme or path: 127.0.0.1:9001"},
    {"a port out of range", "[127.0.0.1:9001]", "[127.0.0.1:90010]", 9, 17, "the port 90010 is out of range"},
    {"endpoints not a list", "[127.0.0.1:9001]", "127.0.0.1:9001", 9, 16,
     "must be a list, got '127.0.0.1:9001' (write [127.0.0.1:9001])"},
    // Paths.
    {"a parameter after a literal prefix", "/penalties/{computedPenaltyId:int64}\n    query",
     "/penalties/x{computedPenaltyId:int64}\n    query", 61, 39, "a parameter must be a whole segment"},
    {"a parameter with a suffix", "/penalties/{computedPenaltyId:int64}\n    query",
     "/penalties/{computedPenaltyId:int64}.json\n    query", 61, 38,
     "a parameter must be a whole segment: write '{name}' or '{name:type}' between two '/'"},
    {"a path without its leading slash", "path: /v2/orgs/{orgId}/penalties/{computedPenaltyId:int64}\n    roles",
     "path: v2/orgs/{orgId}/penalties/{computedPenaltyId:int64}\n    roles", 69, 11, "path must start with '/'"},
    // Misspelt keys and names: the nearest valid one.
    {"a misspelt route key", "    method: DELETE\n", "    metod: DELETE\n", 68, 5, "did you mean 'method'?"},
    {"a misspelt upstream key", "    connect_timeout_ms: 1000\n", "    conect_timeout_ms: 1000\n", 10, 5,
     "did you mean 'connect_timeout_ms'?"},
    {"a misspelt top-level key", "upstreams:\n", "upstream:\n", 7, 1, "did you mean 'upstreams'?"},
    {"a singular routes key", "routes:\n", "route:\n", 19, 1, "did you mean 'routes'?"},
    {"a misspelt limit", "  max_body_bytes: 1048576", "  max_body_byte: 1048576", 5, 3, "did you mean 'max_body_bytes'?"},
    {"a misspelt upstream name", "    upstream: penalties\n\n  - name: compute", "    upstream: penaltie\n\n  - name: compute",
     57, 15, "unknown upstream 'penaltie'; did you mean 'penalties'? (defined: selfCareSocket, penalties)"},
    {"a path parameter in the wrong case", "blockId: {values: [1, 2]}", "blockid: {values: [1, 2]}", 31, 7,
     "did you mean 'blockId'? (the path's parameters: orgId, subscriptionId, blockId)"},
    {"a misspelt query type", "{type: int64_array}", "{type: int64_arry}", 63, 25, "did you mean 'int64_array'?"},
    {"a lower-case method", "    method: DELETE\n", "    method: delete\n", 68, 13, "methods are upper case: write DELETE"},
    // Wrong types and missing values: what was expected and what came.
    {"roles not a list", "    roles: [API_KEY]\n    upstream: penalties\n\n  - name: compute",
     "    roles: API_KEY\n    upstream: penalties\n\n  - name: compute", 56, 12, "must be a list, got 'API_KEY' (write [API_KEY])"},
    {"a name that is a list", "  - name: delete-penalty\n", "  - name: [delete-penalty]\n", 67, 11,
     "route name must be a non-empty string, got a list"},
    {"a name left empty, at its key", "  - name: delete-penalty\n", "  - name:\n", 67, 5,
     "route name must be a non-empty string, got nothing"},
    {"routes left empty", "", "upstreams:\n  b:\n    endpoints: [127.0.0.1:1]\nroutes:\n", 4, 1,
     "routes must be a list, got nothing"},
    {"a YAML 1.1 boolean", "required: true}\n    roles: [API_KEY]\n    upstream: penalties\n\n  - name: get-subscription-penalties\n",
     "required: yes}\n    roles: [API_KEY]\n    upstream: penalties\n\n  - name: get-subscription-penalties\n", 41, 69,
     "required must be true or false, got 'yes'"},
    {"a missing upstream key", "    roles: [API_KEY]\n    upstream: penalties\n", "    roles: [API_KEY]\n", 37, 5,
     "route 'get-account-penalties' needs 'upstream' (the name of one of the upstreams)"},
    {"a duplicated key", "    method: DELETE\n", "    method: DELETE\n    method: DELETE\n", 69, 5,
     "duplicate key 'method' in route"},
    {"a body on a GET route", "    method: PATCH\n", "    method: GET\n", 32, 11, "a GET route cannot take a body"},
    {"a line break in a quoted value stays on one line", "    upstream: penalties\n\n  - name: compute",
     "    upstream: \"pen\\nalties\"\n\n  - name: compute", 57, 15, "unknown upstream 'pen\\nalties'"},
    // Schemas.
    {"a schema type that is no JSON Schema type", "schemas/BlockStatus.json", "schemas/Bad.json", 32, 11,
     "schema 'schemas/Bad.json' at 5:24 (#/properties/active/type): \"bool\" is not a JSON Schema type; did you mean "
     "\"boolean\"? (expected one of: array, boolean, integer, null, number, object, string)",
     "{\n  \"$schema\": \"http://json-schema.org/draft-04/schema#\",\n  \"type\": \"object\",\n  \"properties\": {\n"
     "    \"active\": {\"type\": \"bool\"}\n  }\n}\n"},
    {"a misspelt type in a list of types", "schemas/BlockStatus.json", "schemas/Bad.json", 32, 11,
     "at 3:30 (#/items/type/1): \"strng\" is not a JSON Schema type; did you mean \"string\"?",
     "{\n  \"type\": \"array\",\n  \"items\": {\"type\": [\"null\", \"strng\"]}\n}\n"},
};

std::string project_routes_yaml() {
    std::ifstream in(std::string(TEST_SOURCE_DIR) + "/routes.yaml");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// Whether 1-based line:column lies inside `text` (the end of a line, its newline, counts).
bool inside(const std::string& text, int line, int column) {
    if (line < 1 || column < 1) return false;
    std::size_t start = 0;
    for (int n = 1; n < line; ++n) {
        start = text.find('\n', start);
        if (start == std::string::npos || start + 1 >= text.size()) return false;
        ++start;
    }
    const std::size_t end = std::min(text.find('\n', start), text.size());
    return static_cast<std::size_t>(column) <= end - start + 1;
}

}  // namespace

TEST_CASE("gateway --check: every broken config gets one line at the token at fault") {
    const std::string project = project_routes_yaml();
    REQUIRE_FALSE(project.empty());
    CHECK(std::size(kRows) >= 30);
    for (const auto& row : kRows) {
        INFO("mistake: " << row.mistake);
        std::string text = row.to;
        if (!row.from.empty()) {
            const auto at = project.find(row.from);
            REQUIRE(at != std::string::npos);
            text = project;
            text.replace(at, row.from.size(), row.to);
        }
        TempConfig dir;
        if (!row.schema.empty()) dir.write(row.schema, "schemas/Bad.json");
        const auto result = load_config(dir.write(text));
        CHECK_FALSE(result.config);
        bool found = false;
        for (const auto& diagnostic : result.diagnostics) {
            INFO("diagnostic: " << diagnostic.to_string());
            CHECK(diagnostic.message.find_first_of("\r\n") == std::string::npos);
            CHECK(inside(text, diagnostic.line, diagnostic.column));
            found = found || (diagnostic.line == row.line && diagnostic.column == row.column &&
                              diagnostic.message.find(row.fragment) != std::string::npos);
        }
        std::string all;
        for (const auto& diagnostic : result.diagnostics) all += diagnostic.to_string() + "\n";
        INFO("expected " << row.line << ":" << row.column << ": ..." << row.fragment << "...\ngot:\n" << all);
        CHECK(found);
    }
}
