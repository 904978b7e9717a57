// 8. Client keep-alive, upstream pooling, concurrency and several worker threads.

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <thread>

#include "support/bodies.hpp"
#include "support/documented_routes.hpp"
#include "support/gateway_fixture.hpp"

using namespace test_support;

namespace {

/// Runs `threads` clients with `requests` each, cycling through the documented requests.
/// Answers the failures as text (empty when every request got its expected status).
std::string hammer(std::uint16_t port, int threads, int requests) {
    std::mutex mutex;
    std::string failures;
    std::atomic<int> succeeded{0};
    std::vector<std::thread> running;
    for (int t = 0; t < threads; ++t) {
        running.emplace_back([&, t] {
            try {
                HttpClient client(port, std::chrono::milliseconds(10000));
                const auto& samples = documented_requests();
                for (int i = 0; i < requests; ++i) {
                    const auto& sample = samples[static_cast<std::size_t>(t + i) % samples.size()];
                    Headers headers = api_key();
                    if (!sample.body.empty()) headers.emplace_back("Content-Type", "application/json");
                    const auto response = client.send(sample.method, sample.target, headers, sample.body);
                    if (response.status != sample.expected_status) {
                        std::lock_guard lock(mutex);
                        failures += "thread " + std::to_string(t) + " request " + std::to_string(i) +
                                    ": " + response.describe() + "\n";
                        return;
                    }
                    ++succeeded;
                }
                if (client.connections_opened() != 1) {
                    std::lock_guard lock(mutex);
                    failures += "thread " + std::to_string(t) + " needed " +
                                std::to_string(client.connections_opened()) + " connections\n";
                }
            } catch (const std::exception& e) {
                std::lock_guard lock(mutex);
                failures += "thread " + std::to_string(t) + ": " + e.what() + "\n";
            }
        });
    }
    for (auto& thread : running) thread.join();
    if (succeeded != threads * requests && failures.empty()) failures = "some requests went missing";
    return failures;
}

}  // namespace

TEST_CASE("200 sequential requests over one client connection all succeed") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const auto& samples = documented_requests();
    for (int i = 0; i < 200; ++i) {
        const auto& sample = samples[static_cast<std::size_t>(i) % samples.size()];
        Headers headers = api_key();
        if (!sample.body.empty()) headers.emplace_back("Content-Type", "application/json");
        const auto response = client.send(sample.method, sample.target, headers, sample.body);
        if (response.status != sample.expected_status) {
            INFO("request " << i << " " << sample.method << " " << sample.target << "\n"
                            << response.describe());
            REQUIRE(response.status == sample.expected_status);
        }
        REQUIRE(response.keep_alive);
    }
    CHECK(client.connections_opened() == 1);
}

TEST_CASE("one keep-alive connection carries small, large-headed and large-bodied requests in turn, each forwarded whole") {
    // An idle connection waits with a small read buffer: a head or body past it must grow the
    // buffer for that request, and the next small request must still be read right.
    GatewayFixture fixture;
    auto client = fixture.client();
    const std::string padding(3000, 'h');
    // Trailing whitespace keeps it one valid document of 3 KB.
    const std::string body = R"({"active":true,"reason":"Lo ha perdido"})" + std::string(3000, ' ');
    for (int round = 0; round < 3; ++round) {
        INFO("round " << round);
        const auto small = client.send("GET", kBlocksTarget, api_key({{"x-mock-echo", "1"}}));
        REQUIRE(small.status == 200);
        CHECK(parse_echo(small.body).valid);

        const auto large_head = client.send(
            "GET", kBlocksTarget, api_key({{"x-mock-echo", "1"}, {"X-Padding", padding}}));
        REQUIRE(large_head.status == 200);
        CHECK(parse_echo(large_head.body).header("X-Padding") == padding);

        const auto large_body = client.send(
            "PATCH", kPatchTarget,
            api_key({{"Content-Type", "application/json"}, {"x-mock-echo", "1"}}), body);
        REQUIRE(large_body.status == 200);
        CHECK(parse_echo(large_body.body).body == body);
    }
    CHECK(client.connections_opened() == 1);
}

TEST_CASE("errors keep the client connection alive when the request was read completely") {
    GatewayFixture fixture;
    auto client = fixture.client();
    for (int i = 0; i < 20; ++i) {
        CHECK(client.send("GET", "/nope", api_key()).status == 404);
        CHECK(client.send("GET", kBlocksTarget).status == 401);
        CHECK(client.send("PATCH", kPatchTarget, api_key({{"Content-Type", "application/json"}}), "{}")
                  .status == 400);
        CHECK(client.send("GET", kBlocksTarget, api_key({{"x-mock-fault", "close"}})).status == 502);
        CHECK(client.send("GET", kBlocksTarget, api_key()).status == 200);
    }
    CHECK(client.connections_opened() == 1);
}

TEST_CASE("50 concurrent clients with 20 requests each all succeed") {
    GatewayFixture fixture;
    const std::string failures = hammer(fixture.port(), 50, 20);
    INFO(failures);
    CHECK(failures.empty());
}

TEST_CASE("more concurrent requests than the pool's 64 connections wait for one and all succeed") {
    GatewayFixture fixture;
    std::mutex mutex;
    std::string failures;
    std::vector<std::thread> running;
    for (int t = 0; t < 100; ++t) {
        running.emplace_back([&] {
            try {
                HttpClient client(fixture.port(), std::chrono::milliseconds(8000));
                for (int i = 0; i < 2; ++i) {
                    // Slow answers keep every pooled connection busy while the others queue.
                    const auto response =
                        client.send("GET", kBlocksTarget, api_key({{"x-mock-fault", "delay-100"}}));
                    if (response.status != 200) {
                        std::lock_guard lock(mutex);
                        failures += response.describe() + "\n";
                    }
                }
            } catch (const std::exception& e) {
                std::lock_guard lock(mutex);
                failures += std::string(e.what()) + "\n";
            }
        });
    }
    for (auto& thread : running) thread.join();
    INFO(failures);
    CHECK(failures.empty());
}

TEST_CASE("with --threads 2, concurrent clients are served") {
    GatewayOptions options;
    options.threads = 2;
    GatewayFixture fixture(options);
    CHECK(fixture.gateway().process().stdout_text().find("2 worker thread(s)") != std::string::npos);
    const std::string failures = hammer(fixture.port(), 16, 20);
    INFO(failures);
    CHECK(failures.empty());
    // New connections land on either worker: each must work on its own.
    for (int i = 0; i < 20; ++i) {
        auto client = fixture.client();
        CHECK(client.send("GET", kBlocksTarget, api_key()).status == 200);
    }
}

TEST_CASE("a close fault does not poison the upstream pool for later requests") {
    GatewayFixture fixture;
    auto client = fixture.client();
    // Fill the pool with idle connections first, then break one exchange.
    REQUIRE(hammer(fixture.port(), 8, 5).empty());
    const auto broken = client.send("GET", kBlocksTarget, api_key({{"x-mock-fault", "close"}}));
    CHECK(broken.status == 502);
    for (int i = 0; i < 30; ++i) {
        const auto response = client.send("GET", kBlocksTarget, api_key());
        INFO("request " << i << "\n" << response.describe());
        REQUIRE(response.status == 200);
    }
    CHECK(hammer(fixture.port(), 8, 10).empty());
}

TEST_CASE("after the upstream restarts, stale pooled connections are not used for GET or PATCH") {
    GatewayFixture fixture;
    auto client = fixture.client();
    const Headers json = api_key({{"Content-Type", "application/json"}});
    // Pool connections to the first mock process.
    REQUIRE(client.send("GET", kBlocksTarget, api_key()).status == 200);
    REQUIRE(client.send("PATCH", kPatchTarget, json, R"({"active":true})").status == 201);
    REQUIRE(client.send("GET", kPenaltiesTarget, api_key()).status == 200);

    fixture.restart_mock();  // every pooled connection is now closed by its peer

    SECTION("PATCH (not retried, so it must not be sent on a dead connection)") {
        const auto response = client.send("PATCH", kPatchTarget, json, R"({"active":true})");
        INFO(response.describe());
        CHECK(response.status == 201);
    }
    SECTION("GET") {
        const auto response = client.send("GET", kBlocksTarget, api_key());
        INFO(response.describe());
        CHECK(response.status == 200);
    }
    SECTION("DELETE") {
        const auto response = client.send("DELETE", "/v2/orgs/telco/penalties/1", api_key());
        INFO(response.describe());
        CHECK(response.status == 200);
    }
}
