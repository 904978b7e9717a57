#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/http_client.hpp"
#include "support/process.hpp"

namespace test_support {

/// How long a child gets to print its "listening on" line.
inline constexpr std::chrono::milliseconds kStartupTimeout{10000};

/// `x-auth-roles: API_KEY`, the role every documented route accepts.
Headers api_key(Headers more = {});

/// routes.yaml at the repository root.
std::string project_routes_yaml();

/// A port on 127.0.0.1 where nothing accepts: the socket is bound (so nobody else gets the
/// port) but never listens, so a connect is refused at once for as long as this lives.
class ClosedPort {
public:
    ClosedPort();
    ~ClosedPort();
    ClosedPort(const ClosedPort&) = delete;
    ClosedPort& operator=(const ClosedPort&) = delete;
    std::uint16_t port() const noexcept { return port_; }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

/// A throw-away directory with a copy of the project's schemas/, for configs written by tests
/// (a config names its schemas relative to its own directory).
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const noexcept { return dir_; }
    /// Writes `contents` to `name` inside the directory and answers the file's path.
    std::string write(const std::string& name, const std::string& contents) const;

private:
    std::filesystem::path dir_;
};

/// One mock-backend process; `port` 0 lets the OS choose.
class MockBackend {
public:
    explicit MockBackend(std::uint16_t port = 0, std::vector<std::string> extra_args = {});
    std::uint16_t port() const noexcept { return port_; }
    std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
    ChildProcess& process() { return *process_; }

private:
    std::unique_ptr<ChildProcess> process_;
    std::uint16_t port_ = 0;
};

struct GatewayOptions {
    std::string config_path;  // empty: the project's routes.yaml
    unsigned threads = 1;
    std::optional<int> upstream_timeout_ms;
    /// HOST:PORT per upstream; an upstream not named here is pointed at the mock.
    std::optional<std::string> self_care_endpoint;
    std::optional<std::string> penalties_endpoint;
    /// The endpoints are the config's own: no --upstream overrides (which a reload would
    /// apply again over the file's).
    bool endpoints_from_config = false;
    std::vector<std::string> extra_args;
    /// "NAME=VALUE" variables added to the environment the gateway inherits from the test.
    std::vector<std::string> env;
};

/// A gateway process; its stderr goes to the test's stderr so a crash is visible.
class Gateway {
public:
    Gateway(const GatewayOptions& options, const std::string& default_upstream);
    std::uint16_t port() const noexcept { return port_; }
    ChildProcess& process() { return *process_; }

private:
    std::unique_ptr<ChildProcess> process_;
    std::uint16_t port_ = 0;
};

/// A mock-backend and a gateway in front of it, both upstreams pointed at the mock, both on
/// ports the OS picked. Stopped (SIGTERM, then SIGKILL) when the fixture goes.
class GatewayFixture {
public:
    explicit GatewayFixture(GatewayOptions options = {});

    std::uint16_t port() const noexcept { return gateway_->port(); }
    std::uint16_t mock_port() const noexcept { return mock_->port(); }
    /// A keep-alive client to the gateway / straight to the mock.
    HttpClient client(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) const {
        return HttpClient(port(), timeout);
    }
    HttpClient mock_client() const { return HttpClient(mock_port()); }

    /// Stops the mock and starts a new one on the same port: every connection the gateway
    /// pooled to the old one is now dead.
    void restart_mock();

    Gateway& gateway() { return *gateway_; }

private:
    std::unique_ptr<MockBackend> mock_;
    std::unique_ptr<Gateway> gateway_;
};

/// The admin port a gateway started with `--admin 127.0.0.1:0` was given (its "admin
/// listening on" line); the test fails when none comes within kStartupTimeout.
std::uint16_t admin_port_of(Gateway& gateway);

}  // namespace test_support
