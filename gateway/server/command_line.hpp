#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "config/config_loader.hpp"

namespace gateway {

/// What the command line asks for.
struct CommandLine {
    std::string config_path;
    /// Plain HTTP: `--listen`, or 127.0.0.1:8080 when neither it nor `--listen-tls` is given.
    std::optional<boost::asio::ip::tcp::endpoint> listen;
    /// HTTPS with routes.yaml's `tls:` certificates: `--listen-tls`, off unless given.
    std::optional<boost::asio::ip::tcp::endpoint> listen_tls;
    unsigned threads = 0;  // 0: one per core
    ConfigOverrides overrides;
    std::optional<boost::asio::ip::tcp::endpoint> admin;  // --admin: off unless given
    std::chrono::milliseconds drain_timeout{10'000};
    std::string access_log;  // a file path, "-" for standard output; empty: off
    bool check_only = false;
    bool show_help = false;
    bool show_version = false;
};

struct ParsedCommandLine {
    std::optional<CommandLine> command_line;
    std::string error;  // when command_line is empty
    std::string usage;
};

ParsedCommandLine parse_command_line(int argc, const char* const argv[]);

}  // namespace gateway
