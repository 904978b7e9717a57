#include <catch2/catch.hpp>

#include "routing/route_table.hpp"

using namespace gateway;

namespace {
PathTemplate t(std::string_view text) { return std::get<PathTemplate>(PathTemplate::parse(text)); }
}  // namespace

TEST_CASE("route table matches method and path and extracts raw parameter values") {
    RouteTable table;
    REQUIRE(table.add("GET", t("/v2/orgs/{orgId}/subscriptions/{id:int64}/blocks"), 0) == -1);
    REQUIRE(table.add("PATCH", t("/v2/orgs/{orgId}/subscriptions/{id:int64}/blocks/{b}"), 1) == -1);
    const auto match = table.match("GET", "/v2/orgs/telco/subscriptions/214748364/blocks");
    REQUIRE(match.kind == RouteMatch::Kind::found);
    CHECK(match.route_index == 0);
    REQUIRE(match.path_values.size() == 2);
    CHECK(match.path_values[0] == "telco");
    CHECK(match.path_values[1] == "214748364");
    const auto patch = table.match("PATCH", "/v2/orgs/telco/subscriptions/1/blocks/2");
    CHECK(patch.kind == RouteMatch::Kind::found);
    CHECK(patch.route_index == 1);
}

TEST_CASE("route table answers 404 for unknown paths, trailing slashes and empty segments") {
    RouteTable table;
    table.add("GET", t("/v2/orgs/{orgId}/penalties/{id}"), 0);
    CHECK(table.match("GET", "/v2/orgs/telco/penalties").kind == RouteMatch::Kind::path_not_found);
    CHECK(table.match("GET", "/v2/orgs/telco/penalties/1/").kind == RouteMatch::Kind::path_not_found);
    CHECK(table.match("GET", "/v2/orgs//penalties/1").kind == RouteMatch::Kind::path_not_found);
    CHECK(table.match("GET", "/v3/orgs/telco/penalties/1").kind == RouteMatch::Kind::path_not_found);
    CHECK(table.match("GET", "").kind == RouteMatch::Kind::path_not_found);
    CHECK(table.match("GET", "*").kind == RouteMatch::Kind::path_not_found);
}

TEST_CASE("route table answers 405 with every method of the path, sorted") {
    RouteTable table;
    table.add("GET", t("/v2/orgs/{o}/penalties/{a:int64}"), 0);
    table.add("PUT", t("/v2/orgs/{o}/penalties/{c:int64}"), 1);
    table.add("DELETE", t("/v2/orgs/{o}/penalties/{c:int64}"), 2);
    const auto match = table.match("POST", "/v2/orgs/telco/penalties/1");
    REQUIRE(match.kind == RouteMatch::Kind::method_not_allowed);
    CHECK(match.allowed == std::vector<std::string>{"DELETE", "GET", "PUT"});
}

TEST_CASE("methods are case-sensitive") {
    RouteTable table;
    table.add("GET", t("/a"), 0);
    CHECK(table.match("get", "/a").kind == RouteMatch::Kind::method_not_allowed);
}

TEST_CASE("a literal segment wins over a parameter, and matching backtracks") {
    RouteTable table;
    table.add("GET", t("/p/{a}/subscriptions/{s}"), 0);
    table.add("GET", t("/p/{a}/subscriptions/uuid/{u}"), 1);
    table.add("GET", t("/p/{a}/subscriptions/uuid"), 2);
    CHECK(table.match("GET", "/p/1/subscriptions/uuid/x").route_index == 1);
    CHECK(table.match("GET", "/p/1/subscriptions/uuid").route_index == 2);
    CHECK(table.match("GET", "/p/1/subscriptions/7").route_index == 0);

    RouteTable backtrack;
    backtrack.add("GET", t("/a/b/c"), 0);
    backtrack.add("GET", t("/a/{x}/d"), 1);
    const auto match = backtrack.match("GET", "/a/b/d");
    REQUIRE(match.kind == RouteMatch::Kind::found);
    CHECK(match.route_index == 1);
    REQUIRE(match.path_values.size() == 1);
    CHECK(match.path_values[0] == "b");
}

TEST_CASE("adding the same method and shape twice reports the earlier route") {
    RouteTable table;
    CHECK(table.add("GET", t("/a/{x:int64}"), 0) == -1);
    CHECK(table.add("PUT", t("/a/{x:int64}"), 1) == -1);
    CHECK(table.add("GET", t("/a/{y:uuid}"), 2) == 0);
    CHECK(table.add("GET", t("/a/b"), 3) == -1);
}

TEST_CASE("route table: among ten thousand sibling literal routes the first, the last and a missing one are told apart") {
    // Ten thousand siblings in one trie node, found by binary search of its sorted literals.
    // This checks the answers at both ends and past them; what the lookup costs is measured
    // by tools/instructions (a timing here could not fail reliably).
    RouteTable table;
    for (int i = 0; i < 10000; ++i) {
        table.add("GET", t("/r" + std::to_string(i) + "/{id:int64}"), static_cast<std::size_t>(i));
    }
    CHECK(table.match("GET", "/r0/1").route_index == 0);
    CHECK(table.match("GET", "/r9999/1").route_index == 9999);
    CHECK(table.match("GET", "/r10000/1").kind == RouteMatch::Kind::path_not_found);
}
