#include <catch2/catch.hpp>

#include "config/config_loader.hpp"
#include "pipeline/request_checks.hpp"
#include "pipeline/stages.hpp"

using namespace gateway;

namespace {

const Config& project_config() {
    static const auto loaded = load_config(std::string(TEST_SOURCE_DIR) + "/routes.yaml");
    REQUIRE(loaded.config);
    return *loaded.config;
}

RequestHead get(std::string_view target) {
    RequestHead head;
    head.method = "GET";
    head.target = target;
    head.auth_roles = "API_KEY";
    return head;
}

RequestHead patch(std::string_view target, std::size_t length = 20) {
    RequestHead head = get(target);
    head.method = "PATCH";
    head.content_type = "application/json";
    head.content_length = length;
    return head;
}

Error refusal(const RequestHead& head) {
    auto result = check_head(project_config(), head);
    REQUIRE_FALSE(result.ok());
    return result.error();
}

}  // namespace

TEST_CASE("a valid GET is admitted with its target unchanged") {
    const auto result =
        check_head(project_config(), get("/v2/orgs/telco/penalties/214748364?reason=cancel"));
    REQUIRE(result.ok());
    CHECK(result->route->name == "get-account-penalties");
    CHECK(result->upstream_target == "/v2/orgs/telco/penalties/214748364?reason=cancel");
    CHECK(result->body_limit == 0);
}

TEST_CASE("unknown path is 404 and wrong method is 405 with Allow") {
    CHECK(refusal(get("/v2/orgs/telco/nothing")).errc == Errc::route_not_found);
    auto head = get("/v2/orgs/telco/subscriptions/1/blocks");
    head.method = "DELETE";
    const auto error = refusal(head);
    CHECK(error.errc == Errc::method_not_allowed);
    REQUIRE(error.headers.size() == 1);
    CHECK(error.headers[0] == std::pair<std::string, std::string>{"Allow", "GET"});
}

TEST_CASE("auth: missing or empty roles is 401, wrong roles 403 naming the accepted ones") {
    auto head = get("/v2/orgs/telco/subscriptions/1/blocks");
    head.auth_roles.reset();
    CHECK(refusal(head).errc == Errc::unauthenticated);
    head.auth_roles = " , ";
    CHECK(refusal(head).errc == Errc::unauthenticated);
    head.auth_roles = "USER, api_key";
    const auto error = refusal(head);
    CHECK(error.errc == Errc::forbidden);
    CHECK(error.detail == "x-auth-roles \"USER, api_key\" has none of the roles this route accepts: API_KEY");
    head.auth_roles = "USER, API_KEY";
    CHECK(check_head(project_config(), head).ok());
}

TEST_CASE("auth is checked before parameters") {
    auto head = get("/v2/orgs/telco/subscriptions/abc/blocks");
    head.auth_roles.reset();
    CHECK(refusal(head).errc == Errc::unauthenticated);
}

TEST_CASE("path params are decoded once and type-checked") {
    CHECK(refusal(get("/v2/orgs/telco/subscriptions/abc/blocks")).detail ==
          "path subscriptionId: expected int64, got \"abc\"");
    CHECK(refusal(patch("/v2/orgs/telco/subscriptions/214748364/blocks/3")).detail ==
          "path blockId: must be one of 1, 2, got 3");
    CHECK(check_head(project_config(), get("/v2/orgs/tel%63o/subscriptions/1/blocks")).ok());
    CHECK(check_head(project_config(), get("/v2/orgs/telco/subscriptions/%31/blocks")).ok());
    CHECK(refusal(get("/v2/orgs/telco/subscriptions/%2531/blocks")).detail ==
          "path subscriptionId: expected int64, got \"%31\"");
}

TEST_CASE("paths that could mean two things are refused before matching") {
    const auto slash = refusal(get("/v2/orgs/a%2Fb/subscriptions/1/blocks"));
    CHECK(slash.errc == Errc::invalid_path);
    CHECK(slash.detail == "path segment \"a%2Fb\": an encoded '/' is not allowed");
    CHECK(refusal(get("/v2/orgs/a%00b/subscriptions/1/blocks")).errc == Errc::invalid_path);
    CHECK(refusal(get("/v2/orgs/a%zzb/subscriptions/1/blocks")).detail ==
          "path segment \"a%zzb\": invalid percent-encoding");
    CHECK(refusal(get("/v2/orgs/telco/subscriptions/1/../blocks")).detail ==
          "path segment \"..\": dot segments are not allowed");
    CHECK(refusal(get("/v2/orgs/%2e%2E/subscriptions/1/blocks")).errc == Errc::invalid_path);
}

TEST_CASE("the upstream gets the canonical path and the query as received") {
    const auto result = check_head(project_config(),
                                   get("/v2/%6Frgs/tel%63o/penalties/%31?reason=canc%65l"));
    REQUIRE(result.ok());
    CHECK(result->upstream_target == "/v2/orgs/telco/penalties/1?reason=canc%65l");
}

TEST_CASE("query: required, enum, unknown, repeated and the seed's mistakes") {
    CHECK(refusal(get("/v2/orgs/telco/penalties/1")).detail ==
          "query reason: required, one of unsubscribe, cancel");
    CHECK(refusal(get("/v2/orgs/telco/penalties/1?reason=later")).detail ==
          "query reason: expected one of unsubscribe, cancel, got \"later\"");
    CHECK(refusal(get("/v2/orgs/telco/penalties/1?reason='unsubscribe'?reason=unsubscribe")).detail ==
          "query reason: expected one of unsubscribe, cancel, got \"'unsubscribe'?reason=unsubscribe\" "
          "(a second '?' does not start new parameters: separate them with '&')");
    CHECK(refusal(get("/v2/orgs/telco/penalties/1?reason='cancel'")).detail.find(
              "(drop the quotes around the value)") != std::string::npos);
    CHECK(refusal(get("/v2/orgs/telco/penalties/1?reason=cancel&debug=1")).detail ==
          "query \"debug\": unknown parameter (this route accepts: reason)");
    CHECK(refusal(get("/v2/orgs/telco/subscriptions/1/blocks?x=1")).detail ==
          "query \"x\": unknown parameter (this route takes no query parameters)");
    CHECK(refusal(get("/v2/orgs/telco/penalties/1?reason=cancel&reason=unsubscribe")).detail ==
          "query reason: given more than once with different values (\"cancel\", \"unsubscribe\")");
    CHECK(check_head(project_config(), get("/v2/orgs/telco/penalties/1?reason=cancel&reason=cancel")).ok());
    CHECK(check_head(project_config(), get("/v2/orgs/telco/penalties/1?reason=canc%65l")).ok());
}

TEST_CASE("query arrays accept both documented forms") {
    auto put = get("/v2/orgs/telco/penalties/7?penalties=1&penalties=2");
    put.method = "PUT";
    CHECK(check_head(project_config(), put).ok());
    put.target = "/v2/orgs/telco/penalties/7?penalties=[1,2]";
    CHECK(check_head(project_config(), put).ok());
    put.target = "/v2/orgs/telco/penalties/7?penalties=%5B0%5D";
    CHECK(check_head(project_config(), put).ok());
    put.target = "/v2/orgs/telco/penalties/7";
    CHECK(check_head(project_config(), put).ok());
    put.target = "/v2/orgs/telco/penalties/7?penalties=[1,x]";
    CHECK(refusal(put).detail == "query penalties: element 1: expected int64, got \"x\"");
}

TEST_CASE("body framing: media type, size and bodies on body-less routes") {
    auto head = patch("/v2/orgs/telco/subscriptions/1/blocks/1");
    REQUIRE(check_head(project_config(), head).ok());
    CHECK(check_head(project_config(), head)->body_limit == 1024 * 1024);

    head.content_type = "application/json; charset=utf-8";
    CHECK(check_head(project_config(), head).ok());
    head.content_type = "Application/JSON";
    CHECK(check_head(project_config(), head).ok());
    head.content_type = "text/plain";
    CHECK(refusal(head).errc == Errc::unsupported_media_type);
    head.content_type.reset();
    CHECK(refusal(head).detail == "header Content-Type: expected application/json, got none");

    auto big = patch("/v2/orgs/telco/subscriptions/1/blocks/1", 1024 * 1024 + 1);
    CHECK(refusal(big).detail == "body: 1048577 bytes, the limit is 1048576");

    auto get_with_body = get("/v2/orgs/telco/subscriptions/1/blocks");
    get_with_body.content_length = 5;
    CHECK(refusal(get_with_body).errc == Errc::unexpected_body);
    get_with_body.content_length.reset();
    get_with_body.chunked = true;
    CHECK(refusal(get_with_body).detail.find("got a chunked body") != std::string::npos);
}

TEST_CASE("check_body validates against the route's schema") {
    const auto& route = project_config().routes[1];
    CHECK(check_body(route, R"({"active":true,"reason":"Lo ha perdido"})").ok());
    CHECK(check_body(route, R"({"active":"yes"})").error().detail ==
          "body /active: expected boolean, got string");
}
