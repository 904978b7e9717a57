// TLS on both sides, with real processes and real clients: curl and openssl s_client against
// the gateway's --listen-tls port, the gateway against a mock-backend that speaks TLS. Every
// certificate comes from a throwaway CA made by the test (test/certificates).
#include <catch2/catch.hpp>

#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "support/documented_routes.hpp"
#include "support/gateway_fixture.hpp"
#include "support/http_client.hpp"
#include "test_ca.hpp"

using namespace test_support;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using std::chrono::milliseconds;
namespace fs = std::filesystem;

namespace {

std::uint16_t port_after(const std::string& line) {
    return static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

/// A shell command's result (for pipelines of openssl commands).
RunResult shell(const std::string& command, milliseconds timeout = milliseconds(10000)) {
    return run_to_completion("/bin/bash", {"-c", command}, timeout);
}

std::string hex_serial(long serial) {
    char text[32];
    std::snprintf(text, sizeof text, "%lX", serial);
    std::string out = text;
    if (out.size() % 2) out.insert(out.begin(), '0');  // openssl prints whole bytes
    return out;
}

/// The project's routes.yaml with `tls_block` in front: the documented routes over HTTPS.
std::string routes_with(const std::string& tls_block) {
    return tls_block + read_file(project_routes_yaml());
}

/// A mock backend, and a gateway serving HTTPS on --listen-tls (and plain HTTP and the admin
/// port next to it) with certificates from `ca`, in `dir`.
struct TlsGateway {
    TlsGateway(TempDir& dir, const std::string& routes_yaml, std::vector<std::string> extra = {},
               std::vector<std::string> mock_args = {})
        : mock(0, std::move(mock_args)) {
        GatewayOptions options;
        options.config_path = dir.write("routes.yaml", routes_yaml);
        options.extra_args = {"--listen-tls", "127.0.0.1:0", "--admin", "127.0.0.1:0"};
        options.extra_args.insert(options.extra_args.end(), extra.begin(), extra.end());
        gateway = std::make_unique<Gateway>(options, mock.endpoint());
        const auto tls_line =
            gateway->process().wait_for_line("listening with TLS on ", deadline_in(kStartupTimeout));
        REQUIRE(tls_line);
        tls_port = port_after(*tls_line);
        const auto admin_line =
            gateway->process().wait_for_line("admin listening on ", deadline_in(kStartupTimeout));
        REQUIRE(admin_line);
        admin_port = port_after(*admin_line);
    }

    std::string url(const std::string& target) const {
        return "https://localhost:" + std::to_string(tls_port) + target;
    }
    /// curl's answer: the body, a newline, the status (000 when no answer came).
    RunResult curl(const std::string& ca_file, const std::string& target,
                   std::vector<std::string> more = {}) const {
        std::vector<std::string> args = {"-sS", "--globoff", "--cacert", ca_file, "-H", "x-auth-roles: API_KEY",
                                         "-w", "\n%{http_code}", url(target)};
        args.insert(args.begin(), more.begin(), more.end());
        return run_to_completion("/usr/bin/curl", args);
    }
    /// The serial number (hex) of the certificate served for `server_name`.
    std::string served_serial(const std::string& server_name = "localhost") const {
        const auto result = shell("openssl s_client -connect 127.0.0.1:" + std::to_string(tls_port) +
                                  " -servername " + server_name +
                                  " </dev/null 2>/dev/null | openssl x509 -noout -serial");
        const std::string out = result.out;
        const auto at = out.find("serial=");
        return at == std::string::npos ? "" : out.substr(at + 7, out.find('\n', at) - at - 7);
    }
    std::string metrics() const { return HttpClient(admin_port).send("GET", "/metrics", {}).body; }
    double metric(const std::string& series) const {
        const std::string text = metrics();
        const auto at = text.find("\n" + series + " ");
        if (at == std::string::npos) return -1;
        return std::stod(text.substr(at + series.size() + 2));
    }

    MockBackend mock;
    std::unique_ptr<Gateway> gateway;
    std::uint16_t tls_port = 0;
    std::uint16_t admin_port = 0;
};

const char* const kOneCertificate =
    "tls:\n  certificates:\n    - {cert: certs/gateway.crt, key: certs/gateway.key}\n";

/// Waits until `condition` holds, up to 5 s (a reload settles 100 ms after the last event).
template <typename Condition>
bool eventually(Condition condition) {
    const auto deadline = deadline_in(milliseconds(5000));
    while (Clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(milliseconds(50));
    }
    return condition();
}

}  // namespace

TEST_CASE("https: curl --cacert reaches every documented route, answered as over plain HTTP") {
    TempDir dir;
    test_tls::TestCa ca;
    ca.issue_into(dir.path() / "certs", "gateway", {});
    TlsGateway tls(dir, routes_with(kOneCertificate));
    for (const auto& request : documented_requests()) {
        CAPTURE(request.route);
        std::vector<std::string> more = {"-X", request.method};
        if (!request.body.empty()) {
            more.insert(more.end(), {"-H", "Content-Type: application/json", "--data", request.body});
        }
        const auto answer = tls.curl(ca.ca_file(), request.target, more);
        CHECK(answer.exit_code == 0);
        const std::string status = answer.out.substr(answer.out.rfind('\n') + 1);
        CHECK(status == std::to_string(request.expected_status));
        CHECK(answer.err.empty());
    }
}

TEST_CASE("https: a large request body and a large streamed answer cross TLS whole, as over plain HTTP") {
    TempDir dir;
    test_tls::TestCa ca;
    ca.issue_into(dir.path() / "certs", "gateway", {});
    TlsGateway tls(dir, routes_with(kOneCertificate));
    // 200 KB of JSON: a dozen full records, read through the carry as it grows.
    const std::string reason(200000, 'x');
    const std::string body_file = dir.write("body.json", "{\"active\":true,\"reason\":\"" + reason + "\"}");
    const auto echoed = tls.curl(ca.ca_file(), "/v2/orgs/telco/subscriptions/214748364/blocks/1",
                                 {"-X", "PATCH", "-H", "Content-Type: application/json", "-H",
                                  "x-mock-echo: 1", "--data-binary", "@" + body_file});
    CHECK(echoed.exit_code == 0);
    CHECK(echoed.out.substr(echoed.out.rfind('\n') + 1) == "200");
    CHECK(echoed.out.find(reason) != std::string::npos);
    // The mock's 3 MiB answer is streamed to the client as it comes: byte for byte the plain one.
    const auto over_tls = tls.curl(ca.ca_file(), kBlocksTarget, {"-H", "x-mock-fault: big"});
    CHECK(over_tls.exit_code == 0);
    const std::string tls_body = over_tls.out.substr(0, over_tls.out.rfind('\n'));
    const auto plain = HttpClient(tls.gateway->port()).send("GET", kBlocksTarget, api_key({{"x-mock-fault", "big"}}));
    REQUIRE(plain.status == 200);
    CHECK(plain.body.size() > 3000000);
    CHECK(tls_body.size() == plain.body.size());
    CHECK((tls_body == plain.body));
}

TEST_CASE("https: the curl examples' mistakes get the same ErrorMessage over TLS") {
    TempDir dir;
    test_tls::TestCa ca;
    ca.issue_into(dir.path() / "certs", "gateway", {});
    TlsGateway tls(dir, routes_with(kOneCertificate));
    // The API page's single-quoted JSON body.
    const auto answer = tls.curl(ca.ca_file(), kPatchTarget,
                                 {"-X", "PATCH", "-H", "Content-Type: application/json", "--data",
                                  "{'active': true}"});
    CHECK_THAT(answer.out, Contains("\"code\":40003") && Catch::EndsWith("\n400"));
}

TEST_CASE("https: TLS 1.2 and 1.3 are served with ALPN http/1.1; TLS 1.0 and 1.1 are refused and counted") {
    TempDir dir;
    test_tls::TestCa ca;
    ca.issue_into(dir.path() / "certs", "gateway", {});
    TlsGateway tls(dir, routes_with(kOneCertificate));
    const std::string connect = "openssl s_client -connect 127.0.0.1:" + std::to_string(tls.tls_port) +
                                " -CAfile " + ca.ca_file() + " -alpn h2,http/1.1";
    const auto tls13 = shell(connect + " -tls1_3 </dev/null 2>&1");
    CHECK_THAT(tls13.out, Contains("New, TLSv1.3, Cipher is TLS_"));
    CHECK_THAT(tls13.out, Contains("ALPN protocol: http/1.1"));
    CHECK_THAT(tls13.out, Contains("Verify return code: 0 (ok)"));
    const auto tls12 = shell(connect + " -tls1_2 </dev/null 2>&1");
    CHECK_THAT(tls12.out, Contains("New, TLSv1.2, Cipher is ECDHE-ECDSA-"));
    // The client side allows the old versions (security level 0), so the refusal is ours.
    for (const std::string version : {"-tls1", "-tls1_1"}) {
        CAPTURE(version);
        const auto old = shell(connect + " " + version + " -cipher DEFAULT@SECLEVEL=0 </dev/null 2>&1");
        CHECK_THAT(old.out, Contains("alert protocol version") || Contains("Cipher is (NONE)"));
    }
    CHECK(eventually([&] {
        return tls.metric("gateway_tls_handshake_errors_total{reason=\"protocol_version\"}") == 2;
    }));
}

TEST_CASE("https: plain HTTP sent to the TLS port gets a 400 ErrorMessage saying so") {
    TempDir dir;
    test_tls::TestCa ca;
    ca.issue_into(dir.path() / "certs", "gateway", {});
    TlsGateway tls(dir, routes_with(kOneCertificate));
    HttpClient plain(tls.tls_port);
    const auto answer = plain.send("GET", kBlocksTarget, api_key());
    CHECK(answer.status == 400);
    CHECK_THAT(answer.body, Contains("\"code\":40007") && Contains("HTTPS") &&
                                Contains("send it to https://"));
    CHECK(answer.header("Connection") == "close");
    CHECK(tls.metric("gateway_tls_handshake_errors_total{reason=\"plain_http\"}") == 1);
}

TEST_CASE("https: a TCP health check is no handshake failure; a handshake cut off is one") {
    TempDir dir;
    test_tls::TestCa ca;
    ca.issue_into(dir.path() / "certs", "gateway", {});
    TlsGateway tls(dir, routes_with(kOneCertificate));
    for (int i = 0; i < 3; ++i) {
        RawConnection probe(tls.tls_port);  // connects, sends nothing, closes
    }
    {
        // The first bytes of a TLS record header, then gone.
        RawConnection cut(tls.tls_port);
        REQUIRE(cut.write(std::string("\x16\x03\x01", 3), deadline_in(milliseconds(2000))));
    }
    CHECK(eventually([&] { return tls.metric("gateway_tls_handshake_errors_total{reason=\"closed\"}") == 1; }));
    // The probes, made first, would have been counted by now too.
    std::this_thread::sleep_for(milliseconds(300));
    CHECK(tls.metric("gateway_tls_handshake_errors_total{reason=\"closed\"}") == 1);
    CHECK(tls.metric("gateway_tls_handshake_errors_total{reason=\"timeout\"}") == 0);
}

TEST_CASE("https: SNI picks the certificate for the name asked for; others get the first") {
    TempDir dir;
    test_tls::TestCa ca;
    const auto first = ca.issue_into(dir.path() / "certs", "gateway", {});
    test_tls::TestCa::Options api;
    api.dns_names = {"api.example.com"};
    api.common_name = "api.example.com";
    const auto second = ca.issue_into(dir.path() / "certs", "api", api);
    TlsGateway tls(dir, routes_with("tls:\n  certificates:\n"
                                    "    - {cert: certs/gateway.crt, key: certs/gateway.key}\n"
                                    "    - {cert: certs/api.crt, key: certs/api.key}\n"));
    CHECK(tls.served_serial("api.example.com") == hex_serial(second.serial));
    CHECK(tls.served_serial("localhost") == hex_serial(first.serial));
    CHECK(tls.served_serial("unknown.example.org") == hex_serial(first.serial));
    // curl sends SNI and verifies the name against the certificate it was given.
    const auto answer = tls.curl(ca.ca_file(), kBlocksTarget,
                                 {"--resolve", "api.example.com:" + std::to_string(tls.tls_port) + ":127.0.0.1",
                                  "--url", "https://api.example.com:" + std::to_string(tls.tls_port) + kBlocksTarget});
    CHECK(answer.exit_code == 0);
}

TEST_CASE("https: a certificate renamed over the old one is served without a restart") {
    TempDir dir;
    test_tls::TestCa ca;
    const auto old = ca.issue_into(dir.path() / "certs", "gateway", {});
    TlsGateway tls(dir, routes_with(kOneCertificate));
    REQUIRE(tls.served_serial() == hex_serial(old.serial));
    // Written beside, then renamed over: what cert-manager and editors do.
    const auto fresh = ca.issue_into(dir.path() / "staging", "gateway", {});
    fs::rename(fresh.key, dir.path() / "certs/gateway.key");
    fs::rename(fresh.cert, dir.path() / "certs/gateway.crt");
    CHECK(eventually([&] { return tls.served_serial() == hex_serial(fresh.serial); }));
    CHECK(tls.curl(ca.ca_file(), kBlocksTarget).exit_code == 0);
}

TEST_CASE("https: a Kubernetes Secret's ..data symlink swap rotates the certificate") {
    TempDir dir;
    test_tls::TestCa ca;
    const fs::path secret = dir.path() / "secret";
    const auto old = ca.issue_into(secret / "..2026_12_01", "tls", {});
    fs::create_directory_symlink("..2026_12_01", secret / "..data");
    fs::create_symlink("..data/tls.crt", secret / "tls.crt");
    fs::create_symlink("..data/tls.key", secret / "tls.key");
    TlsGateway tls(dir, routes_with("tls:\n  certificates:\n"
                                    "    - {cert: secret/tls.crt, key: secret/tls.key}\n"));
    REQUIRE(tls.served_serial() == hex_serial(old.serial));
    const auto fresh = ca.issue_into(secret / "..2026_12_02", "tls", {});
    fs::create_directory_symlink("..2026_12_02", secret / "..data_tmp");
    fs::rename(secret / "..data_tmp", secret / "..data");  // the atomic swap the kubelet makes
    CHECK(eventually([&] { return tls.served_serial() == hex_serial(fresh.serial); }));
}

TEST_CASE("https: a broken new certificate keeps the old one and counts a failed reload") {
    TempDir dir;
    test_tls::TestCa ca;
    const auto old = ca.issue_into(dir.path() / "certs", "gateway", {});
    TlsGateway tls(dir, routes_with(kOneCertificate));
    REQUIRE(tls.metric("gateway_config_reload_failures_total") == 0);
    // A key from another certificate: the pair no longer matches.
    const auto other = ca.issue_into(dir.path() / "staging", "other", {});
    fs::rename(other.key, dir.path() / "certs/gateway.key");
    CHECK(eventually([&] { return tls.metric("gateway_config_reload_failures_total") >= 1; }));
    CHECK(tls.served_serial() == hex_serial(old.serial));
    CHECK(tls.curl(ca.ca_file(), kBlocksTarget).exit_code == 0);
}

TEST_CASE("https: with client_ca a verified client certificate is served and logged; none is refused") {
    TempDir dir;
    test_tls::TestCa ca;
    test_tls::TestCa clients("Client CA");
    ca.issue_into(dir.path() / "certs", "gateway", {});
    fs::copy_file(clients.ca_file(), dir.path() / "certs/clients.crt");
    test_tls::TestCa::Options client;
    client.common_name = "billing-service";
    client.for_clients = true;
    const auto billing = clients.issue("billing", client);
    const auto stranger = ca.issue("stranger", client);  // signed by a CA the gateway does not trust
    const std::string log = (dir.path() / "access.log").string();
    TlsGateway tls(dir,
                   routes_with("tls:\n  client_ca: certs/clients.crt\n  certificates:\n"
                               "    - {cert: certs/gateway.crt, key: certs/gateway.key}\n"),
                   {"--access-log", log});
    const auto accepted = tls.curl(ca.ca_file(), kBlocksTarget, {"--cert", billing.cert, "--key", billing.key});
    CHECK(accepted.exit_code == 0);
    CHECK_THAT(accepted.out, Catch::EndsWith("\n200"));
    const auto without = tls.curl(ca.ca_file(), kBlocksTarget);
    CHECK(without.exit_code != 0);
    CHECK_THAT(without.out, Catch::EndsWith("000"));
    const auto untrusted = tls.curl(ca.ca_file(), kBlocksTarget, {"--cert", stranger.cert, "--key", stranger.key});
    CHECK(untrusted.exit_code != 0);
    CHECK(eventually([&] {
        return tls.metric("gateway_tls_handshake_errors_total{reason=\"no_client_certificate\"}") == 1 &&
               tls.metric("gateway_tls_handshake_errors_total{reason=\"bad_client_certificate\"}") == 1;
    }));
    CHECK(eventually([&] { return read_file(log).find("\"event\":\"request\"") != std::string::npos; }));
    const std::string lines = read_file(log);
    CHECK_THAT(lines, Contains("\"client_cert_subject\":\"CN=billing-service,O=Gateway Tests\""));
    CHECK_THAT(lines, Contains("\"tls_version\":\"TLSv1.3\""));
    CHECK_THAT(lines, Contains("\"tls_cipher\":\"TLS_"));
}

TEST_CASE("https: the access log has tls fields on TLS connections and null on plain ones") {
    TempDir dir;
    test_tls::TestCa ca;
    ca.issue_into(dir.path() / "certs", "gateway", {});
    const std::string log = (dir.path() / "access.log").string();
    TlsGateway tls(dir, routes_with(kOneCertificate), {"--access-log", log});
    CHECK(tls.curl(ca.ca_file(), kBlocksTarget, {"--tlsv1.2", "--tls-max", "1.2"}).exit_code == 0);
    HttpClient plain(tls.gateway->port());
    CHECK(plain.send("GET", kBlocksTarget, api_key()).status == 200);
    CHECK(eventually([&] {
        const std::string text = read_file(log);
        return std::count(text.begin(), text.end(), '\n') >= 3;  // config_loaded and two requests
    }));
    const std::string lines = read_file(log);
    CHECK_THAT(lines, Contains("\"tls_version\":\"TLSv1.2\",\"tls_cipher\":\"ECDHE-ECDSA-"));
    CHECK_THAT(lines, Contains("\"tls_version\":null,\"tls_cipher\":null,\"client_cert_subject\":null"));
}

namespace {

/// A gateway whose penalties upstream is a mock speaking TLS with `served`, trusted through
/// `upstream_tls` (the upstream's tls: block, in flow style).
struct UpstreamTlsSetup {
    UpstreamTlsSetup(const test_tls::Issued& served, const std::string& upstream_tls,
                     std::vector<std::string> mock_args = {})
        : mock(0, with_tls_args(served, std::move(mock_args))) {
        std::string yaml = read_file(project_routes_yaml());
        const std::string anchor = "  penalties:\n    endpoints: [127.0.0.1:9002]\n";
        const auto at = yaml.find(anchor);
        REQUIRE(at != std::string::npos);
        yaml.insert(at + anchor.size(), "    tls: " + upstream_tls + "\n");
        GatewayOptions options;
        options.config_path = dir.write("routes.yaml", yaml);
        options.penalties_endpoint = mock.endpoint();
        plain_mock = std::make_unique<MockBackend>();
        gateway = std::make_unique<Gateway>(options, plain_mock->endpoint());
    }
    HttpResponse get_penalties(const Headers& extra = {}) {
        return HttpClient(gateway->port()).send("GET", kPenaltiesTarget, api_key(extra));
    }
    static std::vector<std::string> with_tls_args(const test_tls::Issued& served, std::vector<std::string> args) {
        args.insert(args.begin(), {"--tls-cert", served.cert, "--tls-key", served.key});
        return args;
    }
    /// The mock's next "tls handshake:" line (with --tls-log-handshakes).
    std::string next_handshake() {
        const auto line = mock.process().wait_for_line("tls handshake:", deadline_in(kStartupTimeout));
        return line ? *line : "(no handshake line)";
    }

    TempDir dir;
    MockBackend mock;
    std::unique_ptr<MockBackend> plain_mock;
    std::unique_ptr<Gateway> gateway;
};

}  // namespace

TEST_CASE("upstream tls: a backend verified by its CA is proxied, over pooled connections") {
    test_tls::TestCa ca;
    const auto served = ca.issue("backend", {});
    UpstreamTlsSetup setup(served, "{ca: " + ca.ca_file() + "}");
    HttpClient client(setup.gateway->port());
    for (int i = 0; i < 3; ++i) {
        const auto answer = client.send("GET", kPenaltiesTarget, api_key());
        CHECK(answer.status == 200);
        CHECK_THAT(answer.body, Contains("\"account_id\":214748364"));
    }
    // The documented routes of the other upstream stay on plain TCP.
    CHECK(client.send("GET", kBlocksTarget, api_key()).status == 200);
}

TEST_CASE("upstream tls: a wrong CA, a wrong name and an expired certificate are 502 50204, naming the upstream") {
    test_tls::TestCa ca;
    test_tls::TestCa stranger("Some Other CA");
    SECTION("a CA that did not sign it") {
        const auto served = stranger.issue("backend", {});
        UpstreamTlsSetup setup(served, "{ca: " + ca.ca_file() + "}");
        const auto answer = setup.get_penalties();
        CHECK(answer.status == 502);
        CHECK_THAT(answer.body, Contains("\"code\":50204") &&
                                    Contains("TLS with upstream penalties failed: its certificate did "
                                             "not verify: unable to get local issuer certificate"));
        CHECK_THAT(answer.body, !Contains("127.0.0.1"));
    }
    SECTION("a name it is not for") {
        const auto served = ca.issue("backend", {});
        UpstreamTlsSetup setup(served, "{ca: " + ca.ca_file() + ", server_name: penalties.internal}");
        const auto answer = setup.get_penalties();
        CHECK(answer.status == 502);
        CHECK_THAT(answer.body, Contains("\"code\":50204") && Contains("hostname mismatch"));
    }
    SECTION("an expired certificate") {
        test_tls::TestCa::Options expired;
        expired.valid_from_hours = -48;
        expired.valid_until_hours = -1;
        const auto served = ca.issue("backend", expired);
        UpstreamTlsSetup setup(served, "{ca: " + ca.ca_file() + "}");
        const auto answer = setup.get_penalties();
        CHECK(answer.status == 502);
        CHECK_THAT(answer.body, Contains("\"code\":50204") && Contains("certificate has expired"));
    }
    SECTION("verify: false accepts it, and --check warns") {
        const auto served = stranger.issue("backend", {});
        UpstreamTlsSetup setup(served, "{verify: false}");
        CHECK(setup.get_penalties().status == 200);
        const auto check = run_to_completion(GATEWAY_BIN, {"--check", "--config",
                                                           (setup.dir.path() / "routes.yaml").string()});
        CHECK(check.exit_code == 0);
        CHECK_THAT(check.err, Contains("warning: upstream 'penalties' tls verify: false"));
    }
}

TEST_CASE("upstream tls: the gateway shows its client certificate to a backend that asks for one") {
    test_tls::TestCa ca;
    const auto served = ca.issue("backend", {});
    test_tls::TestCa::Options for_clients;
    for_clients.common_name = "gateway-client";
    for_clients.for_clients = true;
    const auto ours = ca.issue("gateway-client", for_clients);
    SECTION("with cert and key: answered, and the backend verified who we are") {
        UpstreamTlsSetup setup(served, "{ca: " + ca.ca_file() + ", cert: " + ours.cert + ", key: " + ours.key + "}",
                               {"--tls-client-ca", ca.ca_file(), "--tls-log-handshakes"});
        CHECK(setup.get_penalties().status == 200);
        CHECK_THAT(setup.next_handshake(), Contains("CN=gateway-client"));
    }
    SECTION("without: 502 50204, saying the backend wanted a certificate") {
        UpstreamTlsSetup setup(served, "{ca: " + ca.ca_file() + "}", {"--tls-client-ca", ca.ca_file()});
        const auto answer = setup.get_penalties();
        CHECK(answer.status == 502);
        CHECK_THAT(answer.body, Contains("\"code\":50204") &&
                                    Contains("TLS with upstream penalties failed: ") &&
                                    Contains("certificate required"));
        CHECK_THAT(answer.body, !Contains("127.0.0.1"));
    }
}

TEST_CASE("upstream tls: a new connection to the backend resumes the TLS session of the one before") {
    test_tls::TestCa ca;
    const auto served = ca.issue("backend", {});
    UpstreamTlsSetup setup(served, "{ca: " + ca.ca_file() + "}", {"--tls-log-handshakes"});
    CHECK(setup.get_penalties().status == 200);
    CHECK_THAT(setup.next_handshake(), Contains("resumed=no"));
    // The backend drops the pooled connection; the next request needs a new one.
    setup.get_penalties({{"x-mock-fault", "close"}});
    CHECK(setup.get_penalties().status == 200);
    CHECK_THAT(setup.next_handshake(), Contains("resumed=yes"));
}

namespace {

/// Whether a session made by a gateway with tls: block `made_by` resumes on another gateway with
/// `offered_to`, both on the certificates (and ticket keys) in `certs`.
bool resumes_across(const fs::path& certs, const std::string& made_by, const std::string& offered_to,
                    const std::string& version) {
    TempDir dir_a, dir_b;
    fs::create_directory_symlink(certs, dir_a.path() / "certs");
    fs::create_directory_symlink(certs, dir_b.path() / "certs");
    TlsGateway a(dir_a, routes_with(made_by));
    TlsGateway b(dir_b, routes_with(offered_to));
    const std::string session = (dir_a.path() / "session.pem").string();
    shell("(sleep 0.3) | openssl s_client -connect 127.0.0.1:" + std::to_string(a.tls_port) + " " +
          version + " -sess_out " + session + " >/dev/null 2>&1");
    const auto on_b = shell("(sleep 0.3) | openssl s_client -connect 127.0.0.1:" +
                            std::to_string(b.tls_port) + " " + version + " -sess_in " + session +
                            " 2>/dev/null");
    return on_b.out.find("Reused, TLSv1.") != std::string::npos;
}

std::string with_ticket_keys(const std::string& keys) {
    return "tls:\n  session_ticket_key: " + keys + "\n  certificates:\n"
           "    - {cert: certs/gateway.crt, key: certs/gateway.key}\n";
}

void write_ticket_key(const fs::path& path, char seed) {
    std::string key(80, '\0');
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<char>(i * 37 + seed);
    std::ofstream(path, std::ios::binary) << key;
}

}  // namespace

TEST_CASE("https: replicas given one session_ticket_key resume each other's sessions; without it they do not") {
    TempDir dir;
    test_tls::TestCa ca;
    ca.issue_into(dir.path() / "certs", "gateway", {});
    write_ticket_key(dir.path() / "certs/ticket.key", 11);
    const std::string shared = with_ticket_keys("certs/ticket.key");
    for (const std::string version : {"-tls1_2", "-tls1_3"}) {
        CAPTURE(version);
        CHECK(resumes_across(dir.path() / "certs", shared, shared, version));
        CHECK_FALSE(resumes_across(dir.path() / "certs", kOneCertificate, kOneCertificate, version));
    }
}

TEST_CASE("https: a session_ticket_key rotated out still opens its tickets while listed after the new one") {
    TempDir dir;
    test_tls::TestCa ca;
    ca.issue_into(dir.path() / "certs", "gateway", {});
    write_ticket_key(dir.path() / "certs/old.key", 11);
    write_ticket_key(dir.path() / "certs/new.key", 99);
    const std::string old_only = with_ticket_keys("certs/old.key");
    for (const std::string version : {"-tls1_2", "-tls1_3"}) {
        CAPTURE(version);
        CHECK(resumes_across(dir.path() / "certs", old_only, with_ticket_keys("[certs/new.key, certs/old.key]"), version));
        CHECK_FALSE(resumes_across(dir.path() / "certs", old_only, with_ticket_keys("certs/new.key"), version));
    }
}

TEST_CASE("https: --listen-tls without a tls: section refuses to start, saying why") {
    const auto result = run_to_completion(GATEWAY_BIN, {"--config", project_routes_yaml(),
                                                        "--listen-tls", "127.0.0.1:0"});
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.err, Contains("--listen-tls: ") && Contains("has no 'tls:' section"));
}

TEST_CASE("https: sessions resume by ticket, in TLS 1.2 and TLS 1.3") {
    TempDir dir;
    test_tls::TestCa ca;
    ca.issue_into(dir.path() / "certs", "gateway", {});
    TlsGateway tls(dir, routes_with(kOneCertificate));
    const std::string session = (dir.path() / "session.pem").string();
    const std::string connect = "openssl s_client -connect 127.0.0.1:" + std::to_string(tls.tls_port);
    for (const std::string version : {"-tls1_2", "-tls1_3"}) {
        CAPTURE(version);
        // Stdin stays open a moment, so that TLS 1.3's tickets (sent after the handshake) arrive.
        shell("(sleep 0.3) | " + connect + " " + version + " -sess_out " + session + " >/dev/null 2>&1");
        const auto resumed = shell("(sleep 0.3) | " + connect + " " + version + " -sess_in " +
                                   session + " 2>/dev/null");
        CHECK_THAT(resumed.out, Contains("Reused, TLSv1."));
    }
}

TEST_CASE("https: a connection open across a certificate rotation goes on with its own") {
    TempDir dir;
    test_tls::TestCa ca;
    const auto old = ca.issue_into(dir.path() / "certs", "gateway", {});
    TlsGateway tls(dir, routes_with(kOneCertificate));
    // Two requests on one keep-alive TLS connection, a second and a half apart; the
    // certificate is rotated in between.
    const std::string head = std::string("GET ") + kBlocksTarget +
                             " HTTP/1.1\\r\\nHost: localhost\\r\\nx-auth-roles: API_KEY\\r\\n";
    const std::string first = head + "\\r\\n";
    const std::string last = head + "Connection: close\\r\\n\\r\\n";  // the gateway then closes
    auto session = std::async(std::launch::async, [&] {
        return shell("(printf '" + first + "'; sleep 1.5; printf '" + last + "'; sleep 0.5) | "
                     "openssl s_client -quiet -connect 127.0.0.1:" + std::to_string(tls.tls_port) +
                     " 2>/dev/null");
    });
    std::this_thread::sleep_for(milliseconds(500));
    const auto fresh = ca.issue_into(dir.path() / "staging", "gateway", {});
    fs::rename(fresh.key, dir.path() / "certs/gateway.key");
    fs::rename(fresh.cert, dir.path() / "certs/gateway.crt");
    CHECK(eventually([&] { return tls.served_serial() == hex_serial(fresh.serial); }));
    const auto answers = session.get();
    std::size_t count = 0;
    for (std::size_t at = 0; (at = answers.out.find("HTTP/1.1 200 OK", at)) != std::string::npos; ++at) ++count;
    CHECK(count == 2);
    CHECK(old.serial != fresh.serial);
}
