// Operations: graceful drain on SIGTERM/SIGINT and the admin listener.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <thread>

#include "support/bodies.hpp"
#include "support/gateway_fixture.hpp"
#include "support/hardening.hpp"
#include "support/http_client.hpp"

using namespace test_support;
using Catch::Matchers::Contains;
using std::chrono::milliseconds;

namespace {

constexpr const char* kBlocks = "/v2/orgs/telco/subscriptions/214748364/blocks";

// Polls the mock's request counter until it reaches `count` (the request is in flight).
bool wait_for_mock_requests(const GatewayFixture& fixture, long count) {
    const auto deadline = Clock::now() + milliseconds(3000);
    while (Clock::now() < deadline) {
        if (mock_request_count(fixture.mock_port()) >= count) return true;
        std::this_thread::sleep_for(milliseconds(5));
    }
    return false;
}

GatewayOptions with_admin(std::vector<std::string> more = {}) {
    GatewayOptions options;
    options.extra_args = {"--admin", "127.0.0.1:0"};
    options.extra_args.insert(options.extra_args.end(), more.begin(), more.end());
    return options;
}

}  // namespace

TEST_CASE("admin: /healthz and /readyz answer 200 while serving") {
    GatewayFixture fixture(with_admin());
    HttpClient admin(admin_port_of(fixture.gateway()));
    const auto health = admin.send("GET", "/healthz", {});
    CHECK(health.status == 200);
    CHECK(health.body == R"({"status":"alive"})");
    const auto ready = admin.send("GET", "/readyz", {});
    CHECK(ready.status == 200);
    CHECK(ready.body == R"({"status":"ready"})");
}

TEST_CASE("admin: an unknown endpoint or a method other than GET is refused as an ErrorMessage") {
    GatewayFixture fixture(with_admin());
    HttpClient admin(admin_port_of(fixture.gateway()));
    const auto missing = admin.send("GET", "/nothing", {});
    INFO(missing.describe());
    CHECK(missing.status == 404);
    CHECK(missing.header("Content-Type").value_or("") == "application/json");
    const auto missing_body = parse_error_body(missing.body);
    CHECK(missing_body.valid);
    CHECK(missing_body.code == 40401);
    CHECK(missing_body.status == "NOT_FOUND");
    CHECK_THAT(missing_body.detail, Contains("/nothing") && Contains("/healthz") &&
                                            Contains("/metrics"));

    const auto post = admin.send("POST", "/healthz", {}, "");
    INFO(post.describe());
    CHECK(post.status == 405);
    CHECK(post.header("Allow").value_or("") == "GET");
    const auto post_body = parse_error_body(post.body);
    CHECK(post_body.valid);
    CHECK(post_body.code == 40501);
    CHECK_THAT(post_body.detail, Contains("POST /healthz") && Contains("GET only"));
    // The connection stays usable after a refusal.
    CHECK(admin.send("GET", "/healthz", {}).status == 200);
}

TEST_CASE("admin: /routes lists the active routes with the config's hash and load time") {
    GatewayFixture fixture(with_admin());
    HttpClient admin(admin_port_of(fixture.gateway()));
    const auto routes = admin.send("GET", "/routes", {});
    REQUIRE(routes.status == 200);
    CHECK_THAT(routes.body, Contains(R"("config_hash":")"));
    CHECK_THAT(routes.body, Contains(R"("loaded_at":"20)"));
    CHECK_THAT(routes.body,
               Contains(R"({"name":"patch-subscription-block","method":"PATCH","path":"/v2/orgs/{orgId}/subscriptions/{subscriptionId:int64}/blocks/{blockId:int32}","upstream":"selfCareSocket","roles":["API_KEY"],"body_schema":"schemas/BlockStatus.json"})"));
    CHECK_THAT(routes.body, Contains(R"({"name":"delete-penalty","method":"DELETE")"));
}

TEST_CASE("drain: SIGTERM lets a request in flight finish with Connection: close, then exits 0") {
    GatewayFixture fixture(with_admin());
    const auto admin_port = admin_port_of(fixture.gateway());
    HttpClient slow = fixture.client(milliseconds(5000));
    std::optional<HttpResponse> answer;
    std::thread in_flight([&] {
        try {
            answer = slow.send("GET", kBlocks, api_key({{"x-mock-fault", "delay-800"}}));
        } catch (const std::exception&) {
        }
    });
    // Wait until the request is really in flight: the mock has seen it.
    HttpClient idle = fixture.client();
    CHECK(idle.send("GET", kBlocks, api_key()).status == 200);  // an idle keep-alive connection
    REQUIRE(wait_for_mock_requests(fixture, 2));
    REQUIRE(::kill(fixture.gateway().process().pid(), SIGTERM) == 0);

    // Not ready any more while draining; no new connections accepted.
    const auto ready_deadline = Clock::now() + milliseconds(2000);
    int ready_status = 0;
    while (Clock::now() < ready_deadline) {
        try {
            HttpClient admin(admin_port);
            ready_status = admin.send("GET", "/readyz", {}).status;
        } catch (const std::exception&) {
            ready_status = -1;
        }
        if (ready_status != 200) break;
        std::this_thread::sleep_for(milliseconds(10));
    }
    CHECK((ready_status == 503 || ready_status == -1));

    in_flight.join();
    REQUIRE(answer);
    CHECK(answer->status == 200);
    CHECK(answer->header("Connection").value_or("") == "close");
    const auto code = fixture.gateway().process().wait_for_exit(Clock::now() + milliseconds(5000));
    REQUIRE(code);
    CHECK(*code == 0);
}

/// A GET the mock answers only after `delay_ms`, sent from its own thread, and in flight (the
/// mock has it) once the constructor returns.
class SlowRequest {
public:
    SlowRequest(GatewayFixture& fixture, int delay_ms) : client_(fixture.client(milliseconds(5000))) {
        const long before = mock_request_count(fixture.mock_port());
        thread_ = std::thread([this, delay_ms] {
            try {
                client_.send("GET", kBlocks,
                             api_key({{"x-mock-fault", "delay-" + std::to_string(delay_ms)}}));
            } catch (const std::exception&) {
                // Cut by the gateway's stop: what the test is about, judged by the exit code.
            }
        });
        REQUIRE(wait_for_mock_requests(fixture, before + 1));
    }
    ~SlowRequest() { thread_.join(); }

private:
    HttpClient client_;
    std::thread thread_;
};

TEST_CASE("drain: the deadline stops a request that takes too long, exit code 1") {
    GatewayFixture fixture(with_admin({"--drain-timeout-ms", "300"}));
    const SlowRequest slow(fixture, 3000);
    const auto started = Clock::now();
    REQUIRE(::kill(fixture.gateway().process().pid(), SIGTERM) == 0);
    const auto code = fixture.gateway().process().wait_for_exit(Clock::now() + milliseconds(3000));
    REQUIRE(code);
    CHECK(*code == 1);
    CHECK(Clock::now() - started < milliseconds(2000));
}

TEST_CASE("drain: a second signal stops at once") {
    GatewayFixture fixture(with_admin());
    const auto admin_port = admin_port_of(fixture.gateway());
    const SlowRequest slow(fixture, 3000);
    const auto started = Clock::now();
    REQUIRE(::kill(fixture.gateway().process().pid(), SIGINT) == 0);
    // The first signal has been handled once /readyz says so.
    HttpClient admin(admin_port);
    const auto deadline = Clock::now() + milliseconds(2000);
    while (Clock::now() < deadline && admin.send("GET", "/readyz", {}).status == 200) {
    }
    REQUIRE(::kill(fixture.gateway().process().pid(), SIGINT) == 0);
    const auto code = fixture.gateway().process().wait_for_exit(Clock::now() + milliseconds(3000));
    REQUIRE(code);
    CHECK(*code == 1);
    CHECK(Clock::now() - started < milliseconds(1500));
}

namespace {

// The value of the sample `series` (name and labels exactly as exposed), or -1.
double sample(const std::string& exposition, const std::string& series) {
    const std::size_t at = exposition.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(exposition.substr(at + series.size() + 2));
}

}  // namespace

TEST_CASE("admin: /metrics counts requests by route and status class, rejections, upstream errors and connections") {
    GatewayOptions options = with_admin();
    options.threads = 2;  // counters are per worker and summed on scrape
    GatewayFixture fixture(options);
    HttpClient admin(admin_port_of(fixture.gateway()));
    auto client = fixture.client();
    for (int i = 0; i < 5; ++i) REQUIRE(client.send("GET", kBlocks, api_key()).status == 200);
    REQUIRE(client.send("GET", kBlocks, {}).status == 401);
    REQUIRE(client.send("GET", "/v2/orgs/telco/nothing", api_key()).status == 404);
    REQUIRE(client.send("GET", kBlocks, api_key({{"x-mock-fault", "close"}})).status == 502);
    REQUIRE(client.send("GET", kBlocks, api_key()).status == 200);  // leaves a pooled connection

    // A request is counted once its last byte is written, which is a moment after the client
    // has it: scrape until the last one is in (or give up after 2 s and report what came).
    const std::string last_counted =
        R"(gateway_requests_total{route="get-subscription-blocks",method="GET",status_class="2xx"})";
    auto scrape = admin.send("GET", "/metrics", {});
    for (int tries = 0; tries < 100 && scrape.status == 200 && sample(scrape.body, last_counted) < 6; ++tries) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        scrape = admin.send("GET", "/metrics", {});
    }
    REQUIRE(scrape.status == 200);
    CHECK_THAT(scrape.header("Content-Type").value_or(""), Contains("text/plain; version=0.0.4"));
    const std::string& text = scrape.body;
    INFO(text);
    CHECK(sample(text, last_counted) == 6);
    CHECK(sample(text, R"(gateway_requests_total{route="get-subscription-blocks",method="GET",status_class="5xx"})") == 1);
    // A refusal after matching (the 401) counts under its route; only the 404 matched none.
    CHECK(sample(text, R"(gateway_requests_total{route="get-subscription-blocks",method="GET",status_class="4xx"})") == 1);
    CHECK(sample(text, R"(gateway_requests_total{route="none",method="GET",status_class="4xx"})") == 1);
    CHECK(sample(text, R"(gateway_rejected_requests_total{reason="auth"})") == 1);
    CHECK(sample(text, R"(gateway_rejected_requests_total{reason="routing"})") == 1);
    // The close fault: the request and its one retry, both reset.
    CHECK(sample(text, R"(gateway_upstream_errors_total{upstream="selfCareSocket",kind="reset"})") == 2);
    CHECK(sample(text, R"(gateway_request_duration_seconds_count{route="get-subscription-blocks",method="GET"})") == 8);
    CHECK(sample(text, R"(gateway_request_duration_seconds_bucket{route="get-subscription-blocks",method="GET",le="+Inf"})") == 8);
    CHECK(sample(text, "gateway_open_client_connections") >= 1);
    CHECK(sample(text, "gateway_upstream_connections") >= 1);
    CHECK(sample(text, "gateway_config_loads_total") == 1);
    CHECK(sample(text, "gateway_config_reload_failures_total") == 0);
}

TEST_CASE("admin: a request refused for its body is counted as a validation rejection, like one refused for its head") {
    GatewayFixture fixture(with_admin());
    HttpClient admin(admin_port_of(fixture.gateway()));
    auto client = fixture.client();
    const Headers json = api_key({{"Content-Type", "application/json"}});
    const std::string patch = "/v2/orgs/telco/subscriptions/214748364/blocks/1";
    REQUIRE(client.send("PATCH", patch, json, R"({"active":"yes"})").status == 400);  // schema
    REQUIRE(client.send("PATCH", patch, json, "{'active': true}").status == 400);     // not JSON
    REQUIRE(client.send("GET", "/v2/orgs/telco/subscriptions/abc/blocks", api_key()).status == 400);  // head
    const std::string validation = R"(gateway_rejected_requests_total{reason="validation"})";
    auto scrape = admin.send("GET", "/metrics", {});
    for (int tries = 0; tries < 100 && scrape.status == 200 && sample(scrape.body, validation) < 3; ++tries) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        scrape = admin.send("GET", "/metrics", {});
    }
    INFO(scrape.body);
    CHECK(sample(scrape.body, validation) == 3);
    CHECK(sample(scrape.body, R"(gateway_rejected_requests_total{reason="framing"})") == 0);
}
