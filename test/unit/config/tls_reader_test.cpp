// routes.yaml's `tls:` blocks: what loads, and what `--check` says about each broken one, at
// the line and column of the setting at fault. The certificates are made by a throwaway CA
// (test/certificates), so each row needs its files in place: these rows live here rather than
// in check_diagnostics_test.cpp, whose rows edit the project's routes.yaml alone.
#include <catch2/catch.hpp>

#include <openssl/ssl.h>

#include <filesystem>
#include <fstream>

#include "config/config_loader.hpp"
#include "config/temp_config.hpp"
#include "config/tls_context.hpp"
#include "test_ca.hpp"

using namespace gateway;

namespace {

const char* const kUpstreamsAndRoute = R"(upstreams:
  penalties:
    endpoints: [127.0.0.1:9002]
routes:
  - name: get-account-penalties
    method: GET
    path: /v2/orgs/{orgId}/penalties/{accountId:int64}
    roles: [API_KEY]
    upstream: penalties
)";

/// A directory with a CA, the gateway's certificate (certs/gateway.*), and a routes.yaml.
struct TlsFixture {
    TlsFixture() {
        std::filesystem::create_directories(files.dir() / "certs");
        gateway = ca.issue_into(files.dir() / "certs", "gateway", {});
    }
    void issue(const std::string& stem, const test_tls::TestCa::Options& options = {}) {
        ca.issue_into(files.dir() / "certs", stem, options);
    }
    /// Loads a config whose tls: has one certificate, certs/CERT and certs/KEY.
    LoadResult load_one(const std::string& cert, const std::string& key) {
        return load("tls:\n  certificates:\n    - {cert: certs/" + cert + ", key: certs/" + key + "}\n");
    }
    LoadResult load(const std::string& tls_block, const ConfigOverrides& overrides = {}) {
        const std::string path = files.write(tls_block + kUpstreamsAndRoute);
        return load_config(path, overrides);
    }
    /// The one diagnostic a load must give, as "LINE:COL: message" (no file name).
    std::string only_diagnostic(const LoadResult& result) {
        INFO([&] {
            std::string all;
            for (const auto& d : result.diagnostics) all += d.to_string() + "\n";
            return all;
        }());
        REQUIRE(result.diagnostics.size() == 1);
        const auto& d = result.diagnostics.front();
        return std::to_string(d.line) + ":" + std::to_string(d.column) + ": " + d.message;
    }

    TempConfig files;
    test_tls::TestCa ca;
    test_tls::Issued gateway;
};

}  // namespace

TEST_CASE("tls: certificates load with paths relative to routes.yaml and TLS 1.2 as the floor") {
    TlsFixture fixture;
    const auto result = fixture.load("tls:\n  certificates:\n    - {cert: certs/gateway.crt, key: certs/gateway.key}\n");
    REQUIRE(result.diagnostics.empty());
    REQUIRE(result.config->tls);
    const ServerTls& tls = *result.config->tls;
    REQUIRE(tls.certificates.size() == 1);
    CHECK(tls.min_version == TLS1_2_VERSION);
    CHECK(SSL_CTX_get_min_proto_version(tls.default_context()) == TLS1_2_VERSION);
    CHECK(tls.certificates[0].names == std::vector<std::string>{"localhost"});
    CHECK(tls.certificates[0].cert_file == (fixture.files.dir() / "certs/gateway.crt").string());
    CHECK(result.config->tls_files.size() == 2);
    CHECK(result.config->tls_digest.size() == 16);
}

TEST_CASE("tls: min_version 1.3 raises the floor of every context") {
    TlsFixture fixture;
    const auto result = fixture.load(
        "tls:\n  min_version: \"1.3\"\n  certificates:\n    - {cert: certs/gateway.crt, key: certs/gateway.key}\n");
    REQUIRE(result.config);
    CHECK(SSL_CTX_get_min_proto_version(result.config->tls->default_context()) == TLS1_3_VERSION);
}

TEST_CASE("tls: a rotated certificate changes the digest, an unchanged one keeps it") {
    TlsFixture fixture;
    const std::string block = "tls:\n  certificates:\n    - {cert: certs/gateway.crt, key: certs/gateway.key}\n";
    const auto first = fixture.load(block);
    const auto again = fixture.load(block);
    fixture.issue("gateway");
    const auto rotated = fixture.load(block);
    REQUIRE(first.config);
    REQUIRE(rotated.config);
    CHECK(first.config->tls_digest == again.config->tls_digest);
    CHECK(first.config->source_hash == rotated.config->source_hash);
    CHECK(first.config->tls_digest != rotated.config->tls_digest);
}

TEST_CASE("tls --check: a missing certificate file is named at its key, with the path resolved") {
    TlsFixture fixture;
    const auto result = fixture.load_one("missing.crt", "gateway.key");
    CHECK_FALSE(result.config);
    const std::string message = fixture.only_diagnostic(result);
    CHECK(message.rfind("3:14: cannot read 'certs/missing.crt' (", 0) == 0);
    CHECK_THAT(message, Catch::Contains("No such file or directory"));
}

TEST_CASE("tls --check: a key that belongs to another certificate is reported at the key") {
    TlsFixture fixture;
    fixture.issue("other");
    const auto result = fixture.load(
        "tls:\n  certificates:\n    - cert: certs/gateway.crt\n      key: certs/other.key\n");
    CHECK_THAT(fixture.only_diagnostic(result),
               Catch::StartsWith("4:12: the key 'certs/other.key'") &&
                   Catch::Contains("does not belong to the certificate 'certs/gateway.crt'"));
}

TEST_CASE("tls --check: an expired certificate says when it expired") {
    TlsFixture fixture;
    test_tls::TestCa::Options expired;
    expired.valid_from_hours = -48;
    expired.valid_until_hours = -24;
    fixture.issue("old", expired);
    const auto result = fixture.load_one("old.crt", "old.key");
    CHECK_THAT(fixture.only_diagnostic(result),
               Catch::StartsWith("3:14: the certificate 'certs/old.crt'") &&
                   Catch::Contains("expired on 20") && Catch::Contains(" UTC"));
}

TEST_CASE("tls --check: a certificate not valid yet says from when") {
    TlsFixture fixture;
    test_tls::TestCa::Options future;
    future.valid_from_hours = 24;
    fixture.issue("future", future);
    const auto result = fixture.load_one("future.crt", "future.key");
    CHECK_THAT(fixture.only_diagnostic(result), Catch::Contains("is not valid before"));
}

TEST_CASE("tls --check: a file that is no PEM certificate or key says what was expected") {
    TlsFixture fixture;
    fixture.files.write("not a certificate\n", "certs/garbage.pem");
    const auto bad_cert = fixture.load_one("garbage.pem", "gateway.key");
    CHECK_THAT(fixture.only_diagnostic(bad_cert),
               Catch::StartsWith("3:14: 'certs/garbage.pem'") &&
                   Catch::Contains("holds no PEM certificate"));
    const auto bad_key = fixture.load_one("gateway.crt", "garbage.pem");
    CHECK_THAT(fixture.only_diagnostic(bad_key),
               Catch::StartsWith("3:38: 'certs/garbage.pem'") &&
                   Catch::Contains("holds no PEM private key"));
}

TEST_CASE("tls --check: a device, a directory or a huge file is refused without reading it") {
    TlsFixture fixture;
    const auto device = fixture.load(
        "tls:\n  certificates:\n    - {cert: /dev/zero, key: certs/gateway.key}\n");
    CHECK_THAT(fixture.only_diagnostic(device),
               Catch::StartsWith("3:14: cannot read '/dev/zero': it is not a regular file"));
    const auto directory = fixture.load_one("", "gateway.key");
    CHECK_THAT(fixture.only_diagnostic(directory), Catch::Contains("it is a directory"));
    fixture.files.write(std::string(1024 * 1024 + 1, 'A'), "certs/huge.pem");
    CHECK_THAT(fixture.only_diagnostic(fixture.load_one("huge.pem", "gateway.key")),
               Catch::Contains("is larger than 1 MiB"));
}

TEST_CASE("tls --check: min_version other than 1.2 or 1.3 is refused at the value") {
    TlsFixture fixture;
    const auto result = fixture.load(
        "tls:\n  min_version: \"1.1\"\n  certificates:\n    - {cert: certs/gateway.crt, key: certs/gateway.key}\n");
    CHECK(fixture.only_diagnostic(result) ==
          "2:16: tls min_version must be \"1.2\" or \"1.3\", got '1.1' (TLS 1.0 and 1.1 are "
          "broken and never offered)");
}

TEST_CASE("tls --check: an unknown key, a missing list and a missing key file are each named") {
    TlsFixture fixture;
    CHECK_THAT(fixture.only_diagnostic(fixture.load(
                   "tls:\n  min_versoin: \"1.3\"\n  certificates:\n    - {cert: certs/gateway.crt, key: certs/gateway.key}\n")),
               Catch::StartsWith("2:3: unknown key 'min_versoin'") && Catch::Contains("min_version"));
    CHECK_THAT(fixture.only_diagnostic(fixture.load("tls:\n  min_version: \"1.2\"\n")),
               Catch::Contains("tls needs 'certificates'"));
    CHECK_THAT(fixture.only_diagnostic(fixture.load(
                   "tls:\n  certificates:\n    - {cert: certs/gateway.crt}\n")),
               Catch::StartsWith("3:7: tls certificates[0] needs 'key'"));
}

TEST_CASE("tls --check: an unreadable client_ca is reported once, at client_ca") {
    TlsFixture fixture;
    fixture.issue("second");
    const auto result = fixture.load(
        "tls:\n  client_ca: certs/none.crt\n  certificates:\n"
        "    - {cert: certs/gateway.crt, key: certs/gateway.key}\n"
        "    - {cert: certs/second.crt, key: certs/second.key}\n");
    CHECK_THAT(fixture.only_diagnostic(result),
               Catch::StartsWith("2:14: cannot read 'certs/none.crt'"));
}

TEST_CASE("tls: with client_ca, every context requires a client certificate") {
    TlsFixture fixture;
    std::filesystem::copy_file(fixture.ca.ca_file(), fixture.files.dir() / "certs/clients.crt");
    const auto result = fixture.load(
        "tls:\n  client_ca: certs/clients.crt\n  certificates:\n"
        "    - {cert: certs/gateway.crt, key: certs/gateway.key}\n");
    REQUIRE(result.config);
    CHECK(SSL_CTX_get_verify_mode(result.config->tls->default_context()) ==
          (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT));
    CHECK(result.config->tls_files.size() == 3);
}

namespace {

std::string ticket_key_bytes(char seed, std::size_t size = kTicketKeyBytes) {
    std::string bytes(size, '\0');
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>(seed + i * 31);
    return bytes;
}

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

std::string ticket_keys_of(SSL_CTX* context) {
    std::string keys(kTicketKeyBytes, '\0');
    REQUIRE(SSL_CTX_get_tlsext_ticket_keys(context, keys.data(), static_cast<long>(keys.size())) == 1);
    return keys;
}

const char* const kTwoCertificatesWithTicketKey =
    "tls:\n  session_ticket_key: certs/ticket.key\n  certificates:\n"
    "    - {cert: certs/gateway.crt, key: certs/gateway.key}\n"
    "    - {cert: certs/second.crt, key: certs/second.key}\n";

}  // namespace

TEST_CASE("tls: session_ticket_key files are watched, and a rotated one is a change a reload acts on") {
    TlsFixture fixture;
    fixture.issue("second");
    write_bytes(fixture.files.dir() / "certs/ticket.key", ticket_key_bytes('a'));
    const auto first = fixture.load(kTwoCertificatesWithTicketKey);
    REQUIRE(first.diagnostics.empty());
    REQUIRE(first.config->tls->certificates.size() == 2);
    CHECK(first.config->tls_files.size() == 5);
    const auto again = fixture.load(kTwoCertificatesWithTicketKey);
    REQUIRE(again.config);
    CHECK(again.config->tls_digest == first.config->tls_digest);
    write_bytes(fixture.files.dir() / "certs/ticket.key", ticket_key_bytes('b'));
    const auto rotated = fixture.load(kTwoCertificatesWithTicketKey);
    REQUIRE(rotated.config);
    CHECK(rotated.config->tls_digest != first.config->tls_digest);
}

TEST_CASE("tls: session_ticket_key may list files, the sealing one first; each is checked") {
    TlsFixture fixture;
    write_bytes(fixture.files.dir() / "certs/new.key", ticket_key_bytes('n'));
    write_bytes(fixture.files.dir() / "certs/old.key", ticket_key_bytes('o'));
    const std::string listed = "tls:\n  session_ticket_key: [certs/new.key, certs/old.key]\n  certificates:\n"
                               "    - {cert: certs/gateway.crt, key: certs/gateway.key}\n";
    const auto result = fixture.load(listed);
    REQUIRE(result.diagnostics.empty());
    CHECK(result.config->tls_files.size() == 4);
    write_bytes(fixture.files.dir() / "certs/old.key", ticket_key_bytes('o', 79));
    CHECK_THAT(fixture.only_diagnostic(fixture.load(listed)),
               Catch::StartsWith("2:23: 'certs/old.key' (") && Catch::EndsWith("it holds 79"));
    CHECK_THAT(fixture.only_diagnostic(fixture.load(
                   "tls:\n  session_ticket_key: []\n  certificates:\n"
                   "    - {cert: certs/gateway.crt, key: certs/gateway.key}\n")),
               Catch::StartsWith("2:23: tls session_ticket_key must name a file, or list files"));
}

TEST_CASE("tls: without session_ticket_key each load seals tickets with a key of its own") {
    TlsFixture fixture;
    const auto first = fixture.load_one("gateway.crt", "gateway.key");
    const auto again = fixture.load_one("gateway.crt", "gateway.key");
    REQUIRE(first.config);
    REQUIRE(again.config);
    CHECK(ticket_keys_of(first.config->tls->default_context()) !=
          ticket_keys_of(again.config->tls->default_context()));
}

TEST_CASE("tls --check: a session_ticket_key of the wrong size says how to make one, once, at its key") {
    TlsFixture fixture;
    fixture.issue("second");
    write_bytes(fixture.files.dir() / "certs/ticket.key", ticket_key_bytes('a', 48));
    const std::string diagnostic = fixture.only_diagnostic(fixture.load(kTwoCertificatesWithTicketKey));
    CHECK_THAT(diagnostic, Catch::StartsWith("2:23: 'certs/ticket.key' (") &&
                               Catch::EndsWith("must hold exactly 80 bytes (make one with: openssl "
                                               "rand 80 > certs/ticket.key), it holds 48"));
}

TEST_CASE("tls --check: a missing session_ticket_key is named at its key") {
    TlsFixture fixture;
    fixture.issue("second");
    CHECK_THAT(fixture.only_diagnostic(fixture.load(kTwoCertificatesWithTicketKey)),
               Catch::StartsWith("2:23: cannot read 'certs/ticket.key'"));
}

TEST_CASE("tls: --listen-tls without a tls: section is a diagnostic, not a start without certificates") {
    TlsFixture fixture;
    ConfigOverrides overrides;
    overrides.tls_listener = true;
    const auto result = fixture.load("", overrides);
    CHECK_FALSE(result.config);
    CHECK_THAT(fixture.only_diagnostic(result), Catch::Contains("has no 'tls:' section"));
}

TEST_CASE("tls: SNI picks a certificate by exact name or one-label wildcard, without case") {
    TlsFixture fixture;
    test_tls::TestCa::Options api;
    api.dns_names = {"api.example.com"};
    test_tls::TestCa::Options wildcard;
    wildcard.dns_names = {"*.internal.example"};
    fixture.issue("api", api);
    fixture.issue("wild", wildcard);
    const auto result = fixture.load(
        "tls:\n  certificates:\n    - {cert: certs/gateway.crt, key: certs/gateway.key}\n"
        "    - {cert: certs/api.crt, key: certs/api.key}\n"
        "    - {cert: certs/wild.crt, key: certs/wild.key}\n");
    REQUIRE(result.config);
    const ServerTls& tls = *result.config->tls;
    REQUIRE(tls.certificates.size() == 3);
    CHECK(tls.find("API.example.com") == &tls.certificates[1]);
    CHECK(tls.find("penalties.internal.example") == &tls.certificates[2]);
    CHECK(tls.find("a.b.internal.example") == nullptr);
    CHECK(tls.find("internal.example") == nullptr);
    CHECK(tls.find("localhost") == &tls.certificates[0]);
    CHECK(tls.find("unknown.example.com") == nullptr);
}

TEST_CASE("upstream tls: {} is verified against the system store; verify: false warns") {
    TlsFixture fixture;
    const std::string path = fixture.files.write(R"(upstreams:
  penalties:
    endpoints: [127.0.0.1:9002]
    tls: {}
  selfCareSocket:
    endpoints: [127.0.0.1:9001]
    tls: {verify: false}
routes:
  - name: get-account-penalties
    method: GET
    path: /v2/orgs/{orgId}/penalties/{accountId:int64}
    roles: [API_KEY]
    upstream: penalties
)");
    const auto result = load_config(path);
    REQUIRE(result.config);
    const auto& penalties = *result.config->upstreams[0].tls;
    CHECK(penalties.verify);
    CHECK(SSL_CTX_get_verify_mode(penalties.context.get()) == SSL_VERIFY_PEER);
    const auto& self_care = *result.config->upstreams[1].tls;
    CHECK_FALSE(self_care.verify);
    CHECK(SSL_CTX_get_verify_mode(self_care.context.get()) == SSL_VERIFY_NONE);
    REQUIRE(result.warnings.size() == 1);
    CHECK(result.warnings[0].line == 7);
    CHECK(result.warnings[0].column == 19);
    CHECK_THAT(result.warnings[0].message, Catch::Contains("verify: false accepts any certificate"));
}

TEST_CASE("upstream tls --check: a missing CA, a cert without its key, an unknown key") {
    TlsFixture fixture;
    const std::string path = fixture.files.write(R"(upstreams:
  penalties:
    endpoints: [127.0.0.1:9002]
    tls: {ca: certs/nope.crt}
  selfCareSocket:
    endpoints: [127.0.0.1:9001]
    tls: {cert: certs/gateway.crt, server_nmae: x}
routes:
  - name: get-account-penalties
    method: GET
    path: /v2/orgs/{orgId}/penalties/{accountId:int64}
    roles: [API_KEY]
    upstream: penalties
)");
    const auto result = load_config(path);
    CHECK_FALSE(result.config);
    std::string all;
    for (const auto& d : result.diagnostics) all += d.to_string() + "\n";
    INFO(all);
    CHECK_THAT(all, Catch::Contains(":4:15: cannot read 'certs/nope.crt'"));
    CHECK_THAT(all, Catch::Contains(":7:36: unknown key 'server_nmae'"));
    CHECK_THAT(all, Catch::Contains(":7:17: upstream 'selfCareSocket' tls cert needs 'key'"));
}

TEST_CASE("upstream tls: the pool key changes with the TLS settings, so a reload makes new pools") {
    TlsFixture fixture;
    std::filesystem::copy_file(fixture.ca.ca_file(), fixture.files.dir() / "certs/internal-ca.crt");
    const auto with_ca = [&](const std::string& tls) {
        return fixture.files.write("upstreams:\n  penalties:\n    endpoints: [127.0.0.1:9002]\n" + tls +
                                   "routes:\n  - name: r\n    method: GET\n    path: /a\n"
                                   "    roles: [API_KEY]\n    upstream: penalties\n");
    };
    const auto plain = load_serving_config(with_ca(""));
    const auto verified = load_serving_config(with_ca("    tls: {ca: certs/internal-ca.crt}\n"));
    const auto named = load_serving_config(
        with_ca("    tls: {ca: certs/internal-ca.crt, server_name: penalties.internal}\n"));
    REQUIRE(plain.config);
    REQUIRE(verified.config);
    REQUIRE(named.config);
    const auto key = [](const LoadResult& r) { return r.config->upstreams[0].endpoints[0].pool_key; };
    CHECK(key(plain) != key(verified));
    CHECK(key(verified) != key(named));
}
