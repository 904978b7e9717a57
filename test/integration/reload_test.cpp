// Operations: config reload (SIGHUP and file changes) without dropping a request.
#include <catch2/catch.hpp>

#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "support/gateway_fixture.hpp"
#include "support/hardening.hpp"
#include "support/http_client.hpp"

using namespace test_support;
using Catch::Matchers::Contains;
using std::chrono::milliseconds;

namespace {

constexpr const char* kBlocks = "/v2/orgs/telco/subscriptions/214748364/blocks";
constexpr const char* kByUuid =
    "/v2/orgs/telco/penalties/214748364/subscriptions/uuid/123e4567-e89b-12d3-a456-556642440000";
constexpr const char* kPenalty = "/v2/orgs/telco/penalties/214748364";

// routes.yaml without the route named `name` (a route entry runs from "  - name: NAME" to the
// next blank line).
std::string without_route(std::string yaml, const std::string& name) {
    const std::size_t start = yaml.find("  - name: " + name + "\n");
    REQUIRE(start != std::string::npos);
    const std::size_t end = yaml.find("\n\n", start);
    yaml.erase(start, end == std::string::npos ? std::string::npos : end + 2 - start);
    return yaml;
}

struct Admin {
    std::uint16_t port;
    std::string routes() const { return HttpClient(port).send("GET", "/routes", {}).body; }
    std::string hash() const {
        const std::string body = routes();
        const std::size_t at = body.find("\"config_hash\":\"");
        return at == std::string::npos ? "" : body.substr(at + 15, 16);
    }
    long failed_reloads() const {
        const std::string body = routes();
        const std::size_t at = body.find("\"failed_reloads\":");
        return at == std::string::npos ? -1 : std::stol(body.substr(at + 17));
    }
};

Admin admin_of(Gateway& gateway) {
    const auto line = gateway.process().wait_for_line("admin listening on ",
                                                      Clock::now() + kStartupTimeout);
    REQUIRE(line);
    return Admin{static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)))};
}

/// Replaces the file the way editors do: write a new file, rename it over the old one.
void replace_file(const std::string& path, const std::string& contents) {
    const std::string temporary = path + ".tmp";
    std::ofstream(temporary) << contents;
    std::filesystem::rename(temporary, path);
}

/// GETs in a loop on keep-alive connections until stopped; counts what did not succeed.
class SteadyLoad {
public:
    explicit SteadyLoad(std::uint16_t port) {
        for (int i = 0; i < 4; ++i) {
            threads_.emplace_back([this, port] {
                std::optional<HttpClient> client;
                client.emplace(port, milliseconds(5000));
                while (!stop_) {
                    try {
                        const auto response = client->send("GET", kBlocks, api_key());
                        (response.status == 200 ? ok_ : failed_)++;
                    } catch (const std::exception&) {
                        failed_++;
                        client.emplace(port, milliseconds(5000));
                    }
                }
            });
        }
    }
    ~SteadyLoad() { finish(); }
    void finish() {
        stop_ = true;
        for (auto& thread : threads_) {
            if (thread.joinable()) thread.join();
        }
    }
    long ok() const { return ok_; }
    long failed() const { return failed_; }

private:
    std::atomic<bool> stop_{false};
    std::atomic<long> ok_{0};
    std::atomic<long> failed_{0};
    std::vector<std::thread> threads_;
};

}  // namespace

TEST_CASE("reload: rewriting routes.yaml many times under load drops no request") {
    TempDir dir;
    const std::string full = project_routes_text();
    // A: no uuid route. B: the uuid route back, the delete route gone. Broken: not applied.
    const std::string version_a = without_route(full, "get-subscription-penalties-by-uuid");
    const std::string version_b = without_route(full, "delete-penalty");
    const std::string broken = version_b + "  - name: oops\n    metod: GET\n";
    const std::string path = dir.write("routes.yaml", version_a);

    GatewayOptions options;
    options.config_path = path;
    options.threads = 2;
    options.extra_args = {"--admin", "127.0.0.1:0"};
    GatewayFixture fixture(options);
    const Admin admin = admin_of(fixture.gateway());
    HttpClient probe(fixture.port());
    REQUIRE(probe.send("GET", kByUuid, api_key()).status == 404);

    SteadyLoad load(fixture.port());
    std::string serving = admin.hash();
    bool b = false;  // which valid version is serving
    for (int round = 0; round < 12; ++round) {
        INFO("round " << round);
        const bool valid = round % 3 != 2;
        if (valid) b = !b;  // every valid version differs from the one serving
        const std::string& next = valid ? (b ? version_b : version_a) : broken;
        const long failures_before = admin.failed_reloads();
        // Three ways ops change the file: in place, editor-style rename, and SIGHUP after.
        if (round % 4 == 0) {
            std::ofstream(path, std::ios::trunc) << next;
        } else {
            replace_file(path, next);
        }
        if (round % 4 == 3) ::kill(fixture.gateway().process().pid(), SIGHUP);

        const auto deadline = Clock::now() + milliseconds(3000);
        if (valid) {
            REQUIRE(poll_until([&] { return admin.hash() != serving; }, deadline));
            serving = admin.hash();
            // The new table is in force on every worker: try a few fresh connections.
            for (int i = 0; i < 4; ++i) {
                HttpClient fresh(fixture.port());
                CHECK(fresh.send("GET", kByUuid, api_key()).status == (b ? 200 : 404));
                CHECK(fresh.send("DELETE", kPenalty, api_key()).status == (b ? 405 : 200));
            }
        } else {
            REQUIRE(poll_until([&] { return admin.failed_reloads() > failures_before; }, deadline));
            CHECK(admin.hash() == serving);  // the old config keeps serving
        }
    }
    load.finish();
    INFO("requests under load: " << load.ok() << " ok, " << load.failed() << " failed");
    CHECK(load.ok() > 100);
    CHECK(load.failed() == 0);
}

TEST_CASE("reload: a Kubernetes-style ..data symlink swap is picked up") {
    TempDir dir;
    namespace fs = std::filesystem;
    const std::string full = project_routes_text();
    const fs::path root = dir.path();
    fs::create_directories(root / "v1");
    fs::create_directories(root / "v2");
    fs::create_directory_symlink(root / "schemas", root / "v1" / "schemas");
    fs::create_directory_symlink(root / "schemas", root / "v2" / "schemas");
    std::ofstream(root / "v1" / "routes.yaml") << without_route(full, "delete-penalty");
    std::ofstream(root / "v2" / "routes.yaml") << full;
    fs::create_directory_symlink("v1", root / "..data");
    fs::create_symlink("..data/routes.yaml", root / "routes.yaml");

    GatewayOptions options;
    options.config_path = (root / "routes.yaml").string();
    options.extra_args = {"--admin", "127.0.0.1:0"};
    GatewayFixture fixture(options);
    const Admin admin = admin_of(fixture.gateway());
    HttpClient client(fixture.port());
    REQUIRE(client.send("DELETE", kPenalty, api_key()).status == 405);

    // What the kubelet does: a new ..data_tmp link renamed over ..data.
    fs::create_directory_symlink("v2", root / "..data_tmp");
    fs::rename(root / "..data_tmp", root / "..data");
    const std::string before = admin.hash();
    REQUIRE(poll_until([&] { return admin.hash() != before; }, Clock::now() + milliseconds(3000)));
    HttpClient fresh(fixture.port());
    CHECK(fresh.send("DELETE", kPenalty, api_key()).status == 200);
}

TEST_CASE("reload: a request on a connection accepted before a reload is logged under its own snapshot's upstream") {
    TempDir dir;
    const std::string full = project_routes_text();
    // The same routes with the upstreams in the other order: every upstream index changes.
    const std::size_t penalties_at = full.find("  penalties:\n");
    const std::size_t routes_at = full.find("\nroutes:");
    const std::size_t upstreams_at = full.find("upstreams:\n");
    REQUIRE(penalties_at != std::string::npos);
    REQUIRE(routes_at != std::string::npos);
    REQUIRE(upstreams_at != std::string::npos);
    std::string swapped = full;
    const std::string penalties_block = full.substr(penalties_at, routes_at - penalties_at);
    swapped.erase(penalties_at, routes_at - penalties_at);
    swapped.insert(upstreams_at + std::string("upstreams:\n").size(), penalties_block + "\n");
    const std::string path = dir.write("routes.yaml", full);
    const std::string log = (dir.path() / "access.log").string();

    GatewayOptions options;
    options.config_path = path;
    options.extra_args = {"--admin", "127.0.0.1:0", "--access-log", log};
    GatewayFixture fixture(options);
    const Admin admin = admin_of(fixture.gateway());
    HttpClient client(fixture.port());  // accepted under the first config
    REQUIRE(client.send("GET", kPenalty, api_key()).status != 0);
    const std::string before = admin.hash();
    replace_file(path, swapped);
    REQUIRE(poll_until([&] { return admin.hash() != before; }, Clock::now() + milliseconds(3000)));

    const auto response = client.send("GET", kByUuid, api_key({{"X-Request-Id", "after-reload-1"}}));
    REQUIRE(response.status == 200);
    std::string line;
    REQUIRE(poll_until(
        [&] {
            const std::string text = read_text_file(log);
            const std::size_t at = text.find("\"after-reload-1\"");
            if (at == std::string::npos) return false;
            line = text.substr(text.rfind('\n', at) + 1);
            line = line.substr(0, line.find('\n'));
            return true;
        },
        Clock::now() + milliseconds(3000)));
    INFO(line);
    CHECK_THAT(line, Catch::Contains("\"upstream\":\"penalties\""));
}
