// mock-backend: wiring and command line. Everything the mock answers is decided in
// test_hooks/mock_routes/faults, health and control; the I/O lives in connection/delivery, the
// shared state in mock_state.

#include "asio_types.hpp"  // first: the <utility> workaround for Asio's coroutine headers

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>

#include "listen_address.hpp"
#include "mock_state.hpp"
#include "server.hpp"
#include "tls_front.hpp"

namespace po = boost::program_options;

namespace {

constexpr int kExitUsage = 2;
constexpr unsigned kMaxThreads = 256;
/// Upper bounds that catch a typo (or a "-1", which program_options wraps to 4294967295).
constexpr unsigned kMaxConcurrency = 1'000'000;
constexpr unsigned kMaxServiceTimeMs = 600'000;

struct Cli {
    std::string listen;
    unsigned threads = 1;
    bool quiet = false;
    std::string tls_cert;
    std::string tls_key;
    std::string tls_client_ca;
    bool log_tls_handshakes = false;
    unsigned max_concurrency = 0;
    unsigned service_time_ms = 0;
};

po::options_description make_options(Cli& cli) {
    po::options_description options{
        "Usage: mock-backend --listen 127.0.0.1:PORT [--threads N] [--quiet]\n"
        "                    [--max-concurrency C] [--service-time-ms D]\n\n"
        "Fake selfCareSocket and penalties backends for the API gateway's tests and "
        "benchmarks.\nPrints 'listening on HOST:PORT' on stdout once it accepts connections.\n"
        "Backend requests: every request except those to /health and /__mock/*.\n"
        "Test hooks (request headers): x-mock-echo: 1, x-mock-status: NNN, x-mock-fault: MODE\n"
        "Health: GET /health answers 200 {\"status\":\"UP\"}, or what PUT /__mock/health set\n"
        "Control endpoints (GET also answers HEAD):\n"
        "  GET /__mock/requests          {\"requests\": N}, backend requests received; "
        "DELETE resets it\n"
        "  GET /__mock/health-probes     {\"probes\": N}, requests to /health; DELETE resets it\n"
        "  PUT /__mock/health            {\"status\": 100..599}: /health answers it with "
        "{\"status\":\"DOWN\"};\n"
        "                                {\"fault\": \"hang\"|\"close\"}: /health does not "
        "answer;\n"
        "                                DELETE restores 200 UP; GET shows the state\n"
        "  PUT /__mock/fault             {\"mode\": \"MODE\"}, any x-mock-fault MODE: applied to "
        "every backend\n"
        "                                request without an x-mock-fault; DELETE clears, GET "
        "shows it\n"
        "  GET /__mock/concurrency       {\"in_service\": X, \"waiting\": Y, \"max_seen\": Z, "
        "...}; DELETE\n"
        "                                resets max_seen (the most in service at once; "
        "without\n"
        "                                --max-concurrency, the most in progress at once)"
        "\n\nOptions"};
    // clang-format off
    // The chained add_options() table reads best one option per line.
    options.add_options()
        ("help,h", "show this help and exit")
        ("listen,l", po::value(&cli.listen)->default_value("127.0.0.1:0"),
         "HOST:PORT to listen on; port 0 lets the OS pick one")
        ("threads,t", po::value(&cli.threads)->default_value(1),
         "I/O threads, each with its own acceptor on the shared port")
        ("quiet,q", po::bool_switch(&cli.quiet), "no diagnostics on stderr")
        ("tls-cert", po::value(&cli.tls_cert),
         "PEM certificate chain: serve TLS (1.2 and 1.3) instead of plain HTTP; needs --tls-key")
        ("tls-key", po::value(&cli.tls_key), "PEM private key of --tls-cert")
        ("tls-client-ca", po::value(&cli.tls_client_ca),
         "PEM CA certificates: TLS clients must present a certificate one of them signed")
        ("tls-log-handshakes", po::bool_switch(&cli.log_tls_handshakes),
         "print 'tls handshake: resumed=yes|no client=SUBJECT|-' on stdout per TLS handshake")
        ("max-concurrency", po::value(&cli.max_concurrency)->default_value(0),
         "backend requests in service at once, all threads together (0: no limit); the others "
         "wait, first come first served, and a request holds its slot until its response is "
         "written")
        ("service-time-ms", po::value(&cli.service_time_ms)->default_value(0),
         "every backend request takes this long once in service (a timer, no thread blocked)");
    // clang-format on
    return options;
}

}  // namespace

int main(int argc, char** argv) {
    Cli cli;
    const auto options = make_options(cli);
    try {
        po::variables_map vm;
        po::store(po::parse_command_line(argc, argv, options), vm);
        if (vm.count("help") != 0) {
            std::cout << options << '\n';
            return EXIT_SUCCESS;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "mock-backend: " << e.what() << "\n" << options << '\n';
        return kExitUsage;
    }
    if (cli.threads == 0 || cli.threads > kMaxThreads) {
        std::cerr << "mock-backend: --threads must be between 1 and " << kMaxThreads << '\n';
        return kExitUsage;
    }
    if (cli.max_concurrency > kMaxConcurrency) {
        std::cerr << "mock-backend: --max-concurrency must be between 0 and " << kMaxConcurrency
                  << '\n';
        return kExitUsage;
    }
    if (cli.service_time_ms > kMaxServiceTimeMs) {
        std::cerr << "mock-backend: --service-time-ms must be between 0 and " << kMaxServiceTimeMs
                  << '\n';
        return kExitUsage;
    }
    const auto endpoint = mock_backend::parse_listen_address(cli.listen);
    if (!endpoint) {
        std::cerr << "mock-backend: --listen wants HOST:PORT (e.g. 127.0.0.1:0), got '"
                  << cli.listen << "'\n";
        return kExitUsage;
    }

    try {
        if (cli.tls_cert.empty() != cli.tls_key.empty()) {
            std::cerr << "mock-backend: --tls-cert and --tls-key go together\n";
            return kExitUsage;
        }
        std::shared_ptr<boost::asio::ssl::context> tls;
        if (!cli.tls_client_ca.empty() && cli.tls_cert.empty()) {
            std::cerr << "mock-backend: --tls-client-ca needs --tls-cert and --tls-key\n";
            return kExitUsage;
        }
        if (!cli.tls_cert.empty()) {
            tls = mock_backend::make_tls_context(cli.tls_cert, cli.tls_key, cli.tls_client_ca);
        }
        auto state = std::make_shared<mock_backend::MockState>(mock_backend::Capacity::Config{
            cli.max_concurrency, std::chrono::milliseconds{cli.service_time_ms}});
        mock_backend::Server server{
            {state, *endpoint, cli.threads, cli.quiet, tls, cli.log_tls_handshakes}};

        // Registered before the startup line, so a harness that signals right after reading
        // it still gets a clean exit.
        boost::asio::signal_set signals{server.main_context(), SIGINT, SIGTERM};
        signals.async_wait([&server](const mock_backend::error_code& ec, int) {
            if (!ec) server.stop();
        });

        // Harnesses block on this exact line to learn the port: one line, flushed.
        std::cout << "listening on " << mock_backend::format_endpoint(server.local_endpoint())
                  << std::endl;
        server.run();
    } catch (const std::exception& e) {
        std::cerr << "mock-backend: " << e.what() << '\n';
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}
