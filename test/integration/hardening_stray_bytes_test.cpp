// Hardening 6: bytes an upstream sends on a pooled connection that no request asked for (a
// second response after the answer, a late answer after a timeout) never reach a client. An
// idle connection on which anything arrived is closed instead of reused, whatever the method,
// so every client gets its own answer and stays in step.

#include <catch2/catch.hpp>

#include <thread>

#include "support/documented_routes.hpp"
#include "support/gateway_fixture.hpp"
#include "support/hardening.hpp"

using namespace test_support;
using Catch::Matchers::Contains;

namespace {

using std::chrono::milliseconds;

/// What the mock's extra-response faults send after the answer (mock_backend/test_hooks.hpp).
constexpr const char* kStrayMarker = "an answer meant for nobody";

/// Client B's requests echo what the upstream received, tagged, so each answer can be matched to
/// the request that asked for it.
void check_own_answers(const GatewayFixture& fixture, const std::string& client_name) {
    auto client = fixture.client(milliseconds(3000));
    for (int i = 0; i < 3; ++i) {
        const std::string tag = client_name + "-request-" + std::to_string(i);
        const auto response =
            client.send("GET", kBlocksTarget, api_key({{"x-mock-echo", "1"}, {"x-client-tag", tag}}));
        INFO(client_name << " request " << i << ":\n" << response.describe());
        CHECK(response.status == 200);
        CHECK_THAT(response.body, Contains(tag));
        CHECK_THAT(response.body, !Contains(kStrayMarker));
    }
}

}  // namespace

TEST_CASE("stray bytes: a second response the upstream sends 50 ms after its answer reaches no client, whatever the method") {
    GatewayFixture fixture;
    for (const auto& sample : documented_requests()) {
        INFO(sample.method << " " << sample.target << " (" << sample.route << ")");
        auto client_a = fixture.client(milliseconds(3000));
        Headers headers = api_key({{"x-mock-fault", "extra-response"}});
        if (!sample.body.empty()) headers.emplace_back("Content-Type", "application/json");
        const auto first = client_a.send(sample.method, sample.target, headers, sample.body);
        INFO("client A:\n" << first.describe());
        CHECK(first.status == sample.expected_status);
        CHECK_THAT(first.body, !Contains(kStrayMarker));
        // The stray response is now waiting on the gateway's idle upstream connection.
        std::this_thread::sleep_for(milliseconds(200));
        check_own_answers(fixture, "client-B-after-" + sample.route);
    }
}

TEST_CASE("stray bytes: a stray response written together with the answer reaches no client") {
    GatewayFixture fixture;
    for (const std::string_view method : {"GET", "PATCH"}) {
        INFO(method);
        auto client_a = fixture.client(milliseconds(3000));
        Headers headers = api_key({{"x-mock-fault", "extra-response-now"}});
        std::string body;
        std::string target = kBlocksTarget;
        if (method == "PATCH") {
            headers.emplace_back("Content-Type", "application/json");
            body = R"({"active": true, "reason": "Lo ha perdido"})";
            target = kPatchTarget;
        }
        const auto first = client_a.send(method, target, headers, body);
        INFO("client A:\n" << first.describe());
        CHECK((first.status == 200 || first.status == 201));
        CHECK_THAT(first.body, !Contains(kStrayMarker));
        check_own_answers(fixture, "client-B-after-" + std::string(method));
    }
}

TEST_CASE("stray bytes: an answer that comes after the upstream timeout reaches no later client") {
    GatewayOptions options;
    options.upstream_timeout_ms = 300;
    GatewayFixture fixture(options);
    auto client_a = fixture.client(milliseconds(3000));
    const auto late = client_a.send("GET", kBlocksTarget, api_key({{"x-mock-fault", "delay-600"}}));
    INFO("client A:\n" << late.describe());
    CHECK(late.status == 504);
    // The late answer arrives at the gateway while client B's requests are under way.
    std::this_thread::sleep_for(milliseconds(350));
    check_own_answers(fixture, "client-B");
}
