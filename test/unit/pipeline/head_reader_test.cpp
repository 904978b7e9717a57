#include <catch2/catch.hpp>

#include <boost/beast/http/message.hpp>

#include <string>

#include "pipeline/head_reader.hpp"

using namespace gateway;
namespace http = boost::beast::http;

namespace {

http::request_header<> header_with(std::initializer_list<std::pair<const char*, const char*>> fields) {
    http::request_header<> header;
    header.method(http::verb::get);
    header.target("/v2/orgs/telco/subscriptions/1/blocks?x=1");
    for (const auto& [name, value] : fields) header.insert(name, value);
    return header;
}

}  // namespace

TEST_CASE("read_request_head: one x-auth-roles line is used in place, storage untouched") {
    const auto header = header_with({{"Host", "gw"}, {"x-auth-roles", "API_KEY, USER"}});
    std::string storage = "untouched";
    const RequestHead head = read_request_head(header, std::nullopt, false, storage);
    REQUIRE(head.auth_roles);
    CHECK(*head.auth_roles == "API_KEY, USER");
    CHECK(storage == "untouched");
    CHECK(head.method == "GET");
    CHECK(head.target == "/v2/orgs/telco/subscriptions/1/blocks?x=1");
    CHECK_FALSE(head.content_type);
}

TEST_CASE("read_request_head: several x-auth-roles lines, any spelling, are joined in the order they came") {
    const auto header = header_with({{"X-Auth-Roles", "OTHER"},
                                     {"Accept", "application/json"},
                                     {"x-auth-roles", "API_KEY"},
                                     {"X-AUTH-ROLES", "USER"}});
    std::string storage;
    const RequestHead head = read_request_head(header, std::nullopt, false, storage);
    REQUIRE(head.auth_roles);
    CHECK(*head.auth_roles == "OTHER,API_KEY,USER");
}

TEST_CASE("read_request_head: no roles header is no roles; an empty one is an empty list") {
    std::string storage;
    CHECK_FALSE(read_request_head(header_with({{"Host", "gw"}}), std::nullopt, false, storage).auth_roles);
    const RequestHead empty = read_request_head(header_with({{"x-auth-roles", ""}}), std::nullopt, false, storage);
    REQUIRE(empty.auth_roles);
    CHECK(empty.auth_roles->empty());
}

TEST_CASE("read_request_head: the first Content-Type counts; length and chunking are passed on") {
    const auto header = header_with({{"Content-Type", "application/json"}, {"content-type", "text/plain"}});
    std::string storage;
    const RequestHead head = read_request_head(header, 42, false, storage);
    REQUIRE(head.content_type);
    CHECK(*head.content_type == "application/json");
    CHECK(head.content_length == std::optional<std::size_t>(42));
    CHECK_FALSE(head.chunked);
    const RequestHead chunked = read_request_head(header, std::nullopt, true, storage);
    CHECK(chunked.chunked);
    CHECK_FALSE(chunked.content_length);
}
