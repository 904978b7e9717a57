#include "support/gateway_fixture.hpp"

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <fstream>
#include <random>
#include <stdexcept>

namespace test_support {
namespace {

/// The port of a "listening on 127.0.0.1:PORT" line.
std::uint16_t port_of(const std::string& line) {
    const auto colon = line.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("no port in '" + line + "'");
    const int port = std::stoi(line.substr(colon + 1));
    if (port <= 0 || port > 65535) throw std::runtime_error("bad port in '" + line + "'");
    return static_cast<std::uint16_t>(port);
}

std::uint16_t await_listening(ChildProcess& process, const std::string& what) {
    const auto line = process.wait_for_line("listening on ", deadline_in(kStartupTimeout));
    if (!line) {
        const auto code = process.wait_for_exit(deadline_in(std::chrono::milliseconds(100)));
        throw std::runtime_error(what + " did not print 'listening on' (exit code " +
                                 (code ? std::to_string(*code) : std::string("none: still running")) +
                                 "); stdout: " + process.stdout_text());
    }
    return port_of(*line);
}

}  // namespace

Headers api_key(Headers more) {
    more.insert(more.begin(), {"x-auth-roles", "API_KEY"});
    return more;
}

std::string project_routes_yaml() { return std::string(TEST_SOURCE_DIR) + "/routes.yaml"; }

ClosedPort::ClosedPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd_);
        throw std::runtime_error("bind failed");
    }
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
}

ClosedPort::~ClosedPort() {
    if (fd_ >= 0) ::close(fd_);
}

TempDir::TempDir() {
    std::random_device random;
    dir_ = std::filesystem::temp_directory_path() /
           ("gateway-it-" + std::to_string(random()) + "-" + std::to_string(random()));
    std::filesystem::create_directories(dir_);
    std::filesystem::copy(std::filesystem::path(TEST_SOURCE_DIR) / "schemas", dir_ / "schemas");
}

TempDir::~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

std::string TempDir::write(const std::string& name, const std::string& contents) const {
    const auto file = dir_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << contents;
    return file.string();
}

MockBackend::MockBackend(std::uint16_t port, std::vector<std::string> extra_args) {
    std::vector<std::string> args{"--listen", "127.0.0.1:" + std::to_string(port), "--quiet"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    process_ = std::make_unique<ChildProcess>(MOCK_BACKEND_BIN, std::move(args));
    port_ = await_listening(*process_, "mock-backend");
}

Gateway::Gateway(const GatewayOptions& options, const std::string& default_upstream) {
    std::vector<std::string> args = {
        "--config",
        options.config_path.empty() ? project_routes_yaml() : options.config_path,
        "--listen",
        "127.0.0.1:0",
        "--threads",
        std::to_string(options.threads),
    };
    if (!options.endpoints_from_config) {
        args.insert(args.end(),
                    {"--upstream", "selfCareSocket=" + options.self_care_endpoint.value_or(default_upstream),
                     "--upstream", "penalties=" + options.penalties_endpoint.value_or(default_upstream)});
    }
    if (options.upstream_timeout_ms) {
        args.push_back("--upstream-timeout-ms");
        args.push_back(std::to_string(*options.upstream_timeout_ms));
    }
    args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
    if (options.env.empty()) {
        process_ = std::make_unique<ChildProcess>(GATEWAY_BIN, std::move(args));
    } else {
        // env(1) adds the variables to the inherited environment and execs the gateway in its
        // place: the child's pid is the gateway's, so signals and waits work as without it.
        std::vector<std::string> with_env;
        for (const auto& variable : options.env) {
            if (variable.find('=') == std::string::npos || variable.front() == '=' || variable.front() == '-') {
                throw std::invalid_argument("GatewayOptions::env entries are NAME=VALUE, not '" + variable + "'");
            }
            with_env.push_back(variable);
        }
        with_env.push_back(GATEWAY_BIN);
        with_env.insert(with_env.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
        process_ = std::make_unique<ChildProcess>("/usr/bin/env", std::move(with_env));
    }
    port_ = await_listening(*process_, "gateway");
}

GatewayFixture::GatewayFixture(GatewayOptions options) {
    mock_ = std::make_unique<MockBackend>();
    gateway_ = std::make_unique<Gateway>(options, mock_->endpoint());
}

void GatewayFixture::restart_mock() {
    const std::uint16_t port = mock_->port();
    mock_.reset();  // waits for the old process to exit, so its port is free again
    mock_ = std::make_unique<MockBackend>(port);
}

std::uint16_t admin_port_of(Gateway& gateway) {
    const auto line = gateway.process().wait_for_line("admin listening on ", Clock::now() + kStartupTimeout);
    REQUIRE(line);
    return static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
}

}  // namespace test_support
