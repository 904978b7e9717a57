// Hardening 4: slow, idle, numerous and vanishing clients. Every read from a client has a
// deadline (limits.header_timeout_ms, idle_timeout_ms, body_timeout_ms), the number of client
// connections has a cap (limits.max_connections), and none of it slows down other clients or
// leaks connections.

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <latch>
#include <mutex>
#include <thread>

#include "support/bodies.hpp"
#include "support/documented_routes.hpp"
#include "support/gateway_fixture.hpp"
#include "support/hardening.hpp"

using namespace test_support;
using Catch::Matchers::Contains;

namespace {

using std::chrono::milliseconds;

constexpr milliseconds kHeaderTimeout{500};
constexpr milliseconds kIdleTimeout{1000};
constexpr milliseconds kBodyTimeout{500};

/// A gateway whose client timeouts are small enough to watch.
GatewayOptions short_timeouts(const TempDir& dir, const std::string& more_limits = "") {
    GatewayOptions options;
    options.config_path = dir.write(
        "routes.yaml", routes_yaml_with_limits("  header_timeout_ms: " + std::to_string(kHeaderTimeout.count()) +
                                               "\n  idle_timeout_ms: " + std::to_string(kIdleTimeout.count()) +
                                               "\n  body_timeout_ms: " + std::to_string(kBodyTimeout.count()) +
                                               "\n" + more_limits));
    return options;
}

std::string blocks_request() {
    return std::string("GET ") + kBlocksTarget +
           " HTTP/1.1\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n\r\n";
}

/// A client that sends GETs on one keep-alive connection, a few per 100 ms, until stopped,
/// and records the slowest answer and anything that went wrong.
class SteadyClient {
public:
    explicit SteadyClient(std::uint16_t port) : thread_([this, port] { run(port); }) {}
    ~SteadyClient() { stop(); }

    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        if (thread_.joinable()) thread_.join();
    }
    long long slowest_ms() const { return slowest_ms_; }
    int answered() const { return answered_; }
    const std::string& failures() const { return failures_; }

private:
    void run(std::uint16_t port) {
        try {
            HttpClient client(port, milliseconds(2000));
            while (true) {
                const auto started = Clock::now();
                const auto response = client.send("GET", kBlocksTarget, api_key());
                const long long took = elapsed_ms(started);
                slowest_ms_ = std::max(slowest_ms_.load(), took);
                if (response.status != 200) failures_ += response.describe() + "\n";
                ++answered_;
                // Pace, not wait: the pause ends early when the test stops the client.
                std::unique_lock lock(mutex_);
                if (wake_.wait_for(lock, milliseconds(20), [this] { return stopping_; })) return;
            }
        } catch (const std::exception& e) {
            failures_ += std::string(e.what()) + "\n";
        }
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::atomic<long long> slowest_ms_{0};
    std::atomic<int> answered_{0};
    std::string failures_;  // written by the client thread only, read after stop()
    std::thread thread_;
};

}  // namespace

TEST_CASE("slow clients: a slowloris head (1 byte per 200 ms) is cut after header_timeout_ms while another client is served at normal speed") {
    TempDir dir;
    GatewayFixture fixture(short_timeouts(dir));
    SteadyClient steady(fixture.port());

    PacedConnection slow(fixture.port());
    const std::string head = blocks_request();
    const auto started = Clock::now();
    std::size_t sent = 0;
    bool send_failed = false;
    for (; sent < head.size(); ++sent) {
        if (!slow.send(head.substr(sent, 1))) {
            send_failed = true;  // the gateway closed before this byte: its close is next
            break;
        }
        if (slow.wait_for_close(milliseconds(200))) break;
    }
    const long long cut_after = elapsed_ms(started);
    if (send_failed) slow.wait_for_close(milliseconds(500));
    steady.stop();

    INFO("slow client sent " << sent << " of " << head.size() << " bytes; cut after " << cut_after
                             << " ms; received:\n" << slow.received());
    CHECK(slow.closed());
    CHECK(sent < head.size());
    CHECK(cut_after >= kHeaderTimeout.count() * 8 / 10);
    CHECK(cut_after <= kHeaderTimeout.count() + 700);
    if (!slow.received().empty()) {
        const auto response = parse_response(slow.received());
        REQUIRE(response);
        CHECK((response->status == 408 || response->status == 400));
    }

    INFO("steady client: " << steady.answered() << " answers, slowest " << steady.slowest_ms()
                           << " ms; failures:\n" << steady.failures());
    CHECK(steady.failures().empty());
    CHECK(steady.answered() >= 5);
    CHECK(steady.slowest_ms() < 100);
}

TEST_CASE("slow clients: an idle keep-alive connection is closed by the gateway after about idle_timeout_ms") {
    TempDir dir;
    GatewayFixture fixture(short_timeouts(dir));
    PacedConnection connection(fixture.port());
    REQUIRE(connection.send(blocks_request()));
    REQUIRE(connection.wait_for_responses(1, milliseconds(2000)));
    const auto answered = Clock::now();
    const auto response = parse_response(connection.received());
    REQUIRE(response);
    CHECK(response->status == 200);
    CHECK(response->keep_alive);

    const bool closed = connection.wait_for_close(kIdleTimeout * 3 + milliseconds(500));
    const long long idle_for = elapsed_ms(answered);
    INFO("closed after " << idle_for << " ms idle");
    CHECK(closed);
    // Not the header timeout (500 ms), and not much later than the idle timeout.
    CHECK(idle_for >= kIdleTimeout.count() * 8 / 10);
    CHECK(idle_for <= kIdleTimeout.count() * 3);
}

TEST_CASE("slow clients: the client's deadlines do not run while the upstream works: an answer slower than header_timeout_ms and body_timeout_ms arrives within the upstream's request timeout") {
    TempDir dir;
    GatewayFixture fixture(short_timeouts(dir));  // upstream request timeout: the default 10 s
    HttpClient client(fixture.port(), milliseconds(5000));
    const auto started = Clock::now();
    // GET: the head is all there is; PATCH: a body read under body_timeout first.
    const auto get = client.send("GET", kBlocksTarget, api_key({{"x-mock-fault", "delay-1200"}}));
    INFO(get.describe());
    CHECK(get.status == 200);
    CHECK(elapsed_ms(started) >= 1200);
    const auto patch = client.send("PATCH", kPatchTarget,
                                   api_key({{"x-mock-fault", "delay-1200"},
                                            {"Content-Type", "application/json"}}),
                                   R"({"active":true,"reason":"Lo ha perdido"})");
    INFO(patch.describe());
    CHECK(patch.status == 201);
}

TEST_CASE("slow clients: a body that stops arriving halfway is cut after body_timeout_ms and not forwarded") {
    TempDir dir;
    GatewayFixture fixture(short_timeouts(dir));
    reset_mock_request_count(fixture.mock_port());
    PacedConnection connection(fixture.port());
    const std::string body = R"({"active": true})";
    REQUIRE(connection.send(std::string("PATCH ") + kPatchTarget +
                            " HTTP/1.1\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n"
                            "Content-Type: application/json\r\nContent-Length: 16\r\n\r\n" +
                            body.substr(0, 8)));
    const auto started = Clock::now();
    const bool closed = connection.wait_for_close(kBodyTimeout * 4);
    const long long cut_after = elapsed_ms(started);
    INFO("cut after " << cut_after << " ms; received:\n" << connection.received());
    CHECK(closed);
    CHECK(cut_after >= kBodyTimeout.count() * 8 / 10);
    CHECK(cut_after <= kBodyTimeout.count() + 700);
    if (!connection.received().empty()) {
        const auto response = parse_response(connection.received());
        REQUIRE(response);
        CHECK((response->status == 408 || response->status == 400));
    }
    CHECK(mock_request_count(fixture.mock_port()) == 0);
}

TEST_CASE("slow clients: over max_connections 20 a connection gets 503 code 50301 and is closed; after some close, new ones are served") {
    TempDir dir;
    GatewayOptions options;
    options.config_path = dir.write("routes.yaml", routes_yaml_with_limits("  max_connections: 20\n"));
    GatewayFixture fixture(options);

    std::vector<std::unique_ptr<HttpClient>> held;
    for (int i = 0; i < 20; ++i) {
        held.push_back(std::make_unique<HttpClient>(fixture.port(), milliseconds(2000)));
        const auto response = held.back()->send("GET", kBlocksTarget, api_key());
        INFO("connection " << i << ":\n" << response.describe());
        REQUIRE(response.status == 200);
    }

    const auto drained = send_raw(fixture.port(), blocks_request(), milliseconds(2000));
    INFO("21st connection received:\n" << drained.bytes);
    CHECK(drained.closed);
    CHECK_FALSE(drained.timed_out);
    const auto refused = parse_response(drained.bytes);
    REQUIRE(refused);
    EXPECT_ERROR(*refused, 503, 50301, "SERVICE_UNAVAILABLE");
    CHECK(refused->header("Connection").value_or("") == "close");

    // The 20 held connections are unaffected.
    for (auto& client : held) CHECK(client->send("GET", kBlocksTarget, api_key()).status == 200);

    // Free five places; the gateway notices the closes and serves new connections again.
    for (int i = 0; i < 5; ++i) held[static_cast<std::size_t>(i)]->close();
    std::string last;
    const bool served = poll_until(
        [&] {
            try {
                HttpClient client(fixture.port(), milliseconds(1000));
                const auto response = client.send("GET", kBlocksTarget, api_key());
                last = response.describe();
                return response.status == 200;
            } catch (const std::exception& e) {
                last = e.what();
                return false;
            }
        },
        deadline_in(milliseconds(2000)), milliseconds(20));
    INFO("last attempt:\n" << last);
    CHECK(served);
    // Five new connections at once, alongside the 15 still held.
    std::vector<std::unique_ptr<HttpClient>> fresh;
    for (int i = 0; i < 5; ++i) {
        fresh.push_back(std::make_unique<HttpClient>(fixture.port(), milliseconds(2000)));
        CHECK(fresh.back()->send("GET", kBlocksTarget, api_key()).status == 200);
    }
}

TEST_CASE("slow clients: 500 concurrent connections each doing 3 GETs all succeed with the default limits") {
    GatewayFixture fixture;
    constexpr int kThreads = 50;
    constexpr int kConnectionsPerThread = 10;
    constexpr int kRounds = 3;
    std::mutex mutex;
    std::string failures;
    std::atomic<int> succeeded{0};
    std::latch all_open(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            std::vector<std::unique_ptr<HttpClient>> clients;
            bool counted_down = false;
            try {
                for (int round = 0; round < kRounds; ++round) {
                    for (int c = 0; c < kConnectionsPerThread; ++c) {
                        if (round == 0) {
                            clients.push_back(
                                std::make_unique<HttpClient>(fixture.port(), milliseconds(10000)));
                        }
                        const auto response =
                            clients[static_cast<std::size_t>(c)]->send("GET", kBlocksTarget, api_key());
                        if (response.status != 200) throw std::runtime_error(response.describe());
                        ++succeeded;
                    }
                    if (round == 0) {
                        // Every thread's connections are open before anyone goes on: 500 at once.
                        counted_down = true;
                        all_open.arrive_and_wait();
                    }
                }
                for (const auto& client : clients) {
                    if (client->connections_opened() != 1) {
                        throw std::runtime_error("a connection was not kept alive");
                    }
                }
            } catch (const std::exception& e) {
                if (!counted_down) all_open.count_down();
                std::lock_guard lock(mutex);
                failures += "thread " + std::to_string(t) + ": " + e.what() + "\n";
            }
        });
    }
    for (auto& thread : threads) thread.join();
    INFO(failures);
    CHECK(failures.empty());
    CHECK(succeeded == kThreads * kConnectionsPerThread * kRounds);

    auto client = fixture.client(milliseconds(2000));
    CHECK(client.send("GET", kBlocksTarget, api_key()).status == 200);
}

TEST_CASE("slow clients: 50 clients vanishing mid-request and 50 mid-response leave the gateway serving, its fds bounded") {
    GatewayFixture fixture;
    const pid_t gateway = fixture.gateway().process().pid();
    {
        // Warm up: both upstream pools get their first connection.
        auto client = fixture.client(milliseconds(2000));
        REQUIRE(client.send("GET", kBlocksTarget, api_key()).status == 200);
        REQUIRE(client.send("GET", kPenaltiesTarget, api_key()).status == 200);
    }
    std::optional<std::size_t> baseline;
    REQUIRE(poll_until([&] { return (baseline = open_fd_count(gateway)).has_value(); },
                       deadline_in(milliseconds(1000))));

    for (int i = 0; i < 50; ++i) {
        INFO("round " << i);
        {
            // Half a body, then gone.
            RawConnection connection(fixture.port());
            REQUIRE(connection.write(std::string("PATCH ") + kPatchTarget +
                                         " HTTP/1.1\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n"
                                         "Content-Type: application/json\r\nContent-Length: 16\r\n\r\n"
                                         "{\"active\"",
                                     deadline_in(milliseconds(1000))));
        }
        {
            // A 3 MiB answer, of which a few bytes are read, then gone.
            RawConnection connection(fixture.port());
            const auto deadline = deadline_in(milliseconds(2000));
            REQUIRE(connection.write(std::string("GET ") + kPenaltiesTarget +
                                         " HTTP/1.1\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n"
                                         "x-mock-fault: big\r\n\r\n",
                                     deadline));
            CHECK(connection.read_until("HTTP/1.1 200", deadline));
        }
    }

    auto client = fixture.client(milliseconds(2000));
    const auto started = Clock::now();
    const auto response = client.send("GET", kBlocksTarget, api_key());
    const long long took = elapsed_ms(started);
    CHECK(response.status == 200);
    CHECK(took < 200);
    CHECK(fixture.gateway().process().running());

    // The abandoned sessions end and their sockets close: the count settles near where it was.
    std::optional<std::size_t> now;
    const bool settled = poll_until(
        [&] {
            now = open_fd_count(gateway);
            return now && *now <= *baseline + 12;
        },
        deadline_in(milliseconds(3000)), milliseconds(20));
    INFO("gateway fds: " << *baseline << " before, " << (now ? std::to_string(*now) : "?") << " after");
    CHECK(settled);
}
