// 1. Every documented route reaches the mock and comes back exactly as the mock answers it.

#include <catch2/catch.hpp>

#include "support/bodies.hpp"
#include "support/documented_routes.hpp"
#include "support/gateway_fixture.hpp"

using namespace test_support;

namespace {

Headers request_headers(const SampleRequest& sample) {
    Headers headers = api_key({{"Accept", "application/json"}});
    if (!sample.body.empty()) headers.emplace_back("Content-Type", "application/json");
    return headers;
}

}  // namespace

TEST_CASE("each of the 7 documented routes proxies to the mock and returns its answer unchanged") {
    GatewayFixture fixture;
    HttpClient gateway = fixture.client();
    HttpClient mock = fixture.mock_client();

    for (const auto& sample : documented_requests()) {
        SECTION(sample.route) {
            const auto direct = mock.send(sample.method, sample.target, request_headers(sample), sample.body);
            const auto proxied =
                gateway.send(sample.method, sample.target, request_headers(sample), sample.body);
            INFO(sample.method << " " << sample.target << "\nvia gateway:\n"
                               << proxied.describe() << "\ndirect:\n"
                               << direct.describe());
            REQUIRE(direct.status == sample.expected_status);
            CHECK(proxied.status == sample.expected_status);
            CHECK(proxied.body == direct.body);
            CHECK(proxied.header("Content-Type") == direct.header("Content-Type"));
            CHECK(proxied.header("Content-Length") == std::to_string(direct.body.size()));
            if (sample.method == "GET") {
                CHECK(proxied.header("Content-Type") == "application/json");
                CHECK(is_json(proxied.body));
                CHECK_FALSE(proxied.body.empty());
            }
        }
    }
}

TEST_CASE("PATCH on a block answers 201 Created with the mock's empty body") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response = client.send("PATCH", kPatchTarget,
                                      api_key({{"Content-Type", "application/json"}}),
                                      R"({"active": false})");
    INFO(response.describe());
    CHECK(response.status == 201);
    CHECK(response.body.empty());
}

TEST_CASE("GET account penalties returns the mock's penalties for the requested reason") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto response =
        client.send("GET", "/v2/orgs/telco/penalties/42?reason=cancel", api_key());
    INFO(response.describe());
    REQUIRE(response.status == 200);
    // The mock fills in the account id and the reason it received: proof the path and the
    // query reached it intact.
    CHECK(response.body.find(R"("account_id":42)") != std::string::npos);
    CHECK(response.body.find(R"("penalty_type":"cancel")") != std::string::npos);
}
