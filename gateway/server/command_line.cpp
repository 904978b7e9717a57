#include "server/command_line.hpp"

#include <boost/program_options.hpp>

#include <sstream>

namespace gateway {

namespace po = boost::program_options;

namespace {

std::optional<boost::asio::ip::tcp::endpoint> parse_listen(std::string_view text) {
    // Port 0 is allowed here, unlike for upstreams: the OS picks a free port and the
    // "listening on" line tells it (tests rely on that).
    const bool zero_port = text.size() > 2 && text.substr(text.size() - 2) == ":0";
    const auto endpoint =
        parse_endpoint(zero_port ? std::string(text.substr(0, text.size() - 1)) + "1" : std::string(text));
    if (!endpoint) return std::nullopt;
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(endpoint->host, ec);
    if (ec) return std::nullopt;
    return boost::asio::ip::tcp::endpoint(address, zero_port ? 0 : endpoint->port);
}

}  // namespace

ParsedCommandLine parse_command_line(int argc, const char* const argv[]) {
    po::options_description options("Options");
    options.add_options()
        ("config", po::value<std::string>(), "route table (routes.yaml); required")
        ("listen", po::value<std::string>(),
         "address to serve plain HTTP on, HOST:PORT (port 0: any free port; default "
         "127.0.0.1:8080 unless --listen-tls is given)")
        ("listen-tls", po::value<std::string>(),
         "address to serve HTTPS on, HOST:PORT, with the certificates of routes.yaml's tls: "
         "(next to --listen, or instead of it)")
        ("threads", po::value<unsigned>()->default_value(0),
         "worker threads, each with its own acceptor and upstream pools (0: one per core)")
        ("upstream", po::value<std::vector<std::string>>()->composing(),
         "NAME=HOST:PORT: replace the endpoints of upstream NAME (repeatable)")
        ("upstream-timeout-ms", po::value<long long>(), "request timeout for every upstream")
        ("admin", po::value<std::string>(),
         "HOST:PORT for /healthz, /readyz, /routes, /metrics (off unless given; port 0: any free port)")
        ("drain-timeout-ms", po::value<long long>()->default_value(10'000),
         "on SIGTERM/SIGINT, how long in-flight requests may take before the gateway stops anyway")
        ("access-log", po::value<std::string>()->default_value("off"),
         "one JSON line per request: PATH (reopened on SIGUSR1), - (standard output) or off")
        ("check", "validate the config and its schemas, print every problem, and exit")
        ("help", "show this help")
        ("version", "show the version");

    ParsedCommandLine parsed;
    std::ostringstream usage;
    usage << "Usage:\n"
             "  gateway --config routes.yaml [--listen 127.0.0.1:8080] [--listen-tls IP:PORT]\n"
             "          [--threads N]\n"
             "          [--upstream NAME=HOST:PORT]... [--upstream-timeout-ms N]\n"
             "          [--admin HOST:PORT] [--drain-timeout-ms N] [--access-log PATH|-|off]\n"
             "  gateway --check --config routes.yaml\n\n"
          << options;
    parsed.usage = usage.str();

    po::variables_map values;
    try {
        po::store(po::command_line_parser(argc, argv).options(options).run(), values);
        po::notify(values);
    } catch (const po::error& e) {
        parsed.error = e.what();
        return parsed;
    }

    CommandLine command_line;
    command_line.show_help = values.count("help") > 0;
    command_line.show_version = values.count("version") > 0;
    command_line.check_only = values.count("check") > 0;
    if (command_line.show_help || command_line.show_version) {
        parsed.command_line = std::move(command_line);
        return parsed;
    }
    if (!values.count("config")) {
        parsed.error = "--config is required";
        return parsed;
    }
    command_line.config_path = values["config"].as<std::string>();

    if (values.count("listen-tls")) {
        const std::string listen = values["listen-tls"].as<std::string>();
        command_line.listen_tls = parse_listen(listen);
        if (!command_line.listen_tls) {
            parsed.error = "--listen-tls " + listen + ": expected IP:PORT, e.g. 127.0.0.1:8443";
            return parsed;
        }
    }
    if (values.count("listen") || !command_line.listen_tls) {
        const std::string listen =
            values.count("listen") ? values["listen"].as<std::string>() : "127.0.0.1:8080";
        command_line.listen = parse_listen(listen);
        if (!command_line.listen) {
            parsed.error = "--listen " + listen + ": expected IP:PORT, e.g. 127.0.0.1:8080";
            return parsed;
        }
    }
    if (command_line.listen && command_line.listen_tls &&
        *command_line.listen == *command_line.listen_tls &&
        command_line.listen->port() != 0) {
        parsed.error = "--listen and --listen-tls name the same address; give each its own port";
        return parsed;
    }
    command_line.threads = values["threads"].as<unsigned>();
    if (command_line.threads > 256) {
        parsed.error = "--threads must be at most 256";
        return parsed;
    }

    if (values.count("upstream")) {
        for (const auto& text : values["upstream"].as<std::vector<std::string>>()) {
            const auto equals = text.find('=');
            const auto target = equals == std::string::npos
                                    ? std::nullopt
                                    : parse_endpoint(std::string_view(text).substr(equals + 1));
            if (equals == 0 || !target) {
                parsed.error = "--upstream " + text + ": expected NAME=HOST:PORT";
                return parsed;
            }
            command_line.overrides.upstream_endpoints[text.substr(0, equals)].push_back(*target);
        }
    }
    if (values.count("upstream-timeout-ms")) {
        const long long ms = values["upstream-timeout-ms"].as<long long>();
        if (ms < 1 || ms > 3'600'000) {
            parsed.error = "--upstream-timeout-ms must be between 1 and 3600000";
            return parsed;
        }
        command_line.overrides.upstream_request_timeout = std::chrono::milliseconds(ms);
    }
    if (values.count("admin")) {
        const std::string admin = values["admin"].as<std::string>();
        command_line.admin = parse_listen(admin);
        if (!command_line.admin) {
            parsed.error = "--admin " + admin + ": expected IP:PORT, e.g. 127.0.0.1:9901";
            return parsed;
        }
    }
    const long long drain_ms = values["drain-timeout-ms"].as<long long>();
    if (drain_ms < 0 || drain_ms > 3'600'000) {
        parsed.error = "--drain-timeout-ms must be between 0 and 3600000";
        return parsed;
    }
    command_line.drain_timeout = std::chrono::milliseconds(drain_ms);
    const std::string access_log = values["access-log"].as<std::string>();
    if (access_log.empty()) {
        parsed.error = "--access-log: expected a file path, - (standard output) or off";
        return parsed;
    }
    if (access_log != "off") command_line.access_log = access_log;
    parsed.command_line = std::move(command_line);
    return parsed;
}

}  // namespace gateway
