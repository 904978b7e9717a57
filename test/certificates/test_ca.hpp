#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace test_tls {

/// A certificate and its key, issued by a TestCa, as PEM files.
struct Issued {
    std::string cert;  // path
    std::string key;   // path
    long serial = 0;
};

/// A throwaway certificate authority for tests: its own directory under the system's temp
/// directory (removed with it), an ECDSA P-256 CA certificate, and certificates issued on
/// demand, valid or not. Made with OpenSSL's API, so no private key is ever committed.
class TestCa {
public:
    struct Options {
        std::string common_name = "localhost";
        std::vector<std::string> dns_names = {"localhost"};
        std::vector<std::string> ip_addresses = {"127.0.0.1"};
        long valid_from_hours = -1;        // relative to now
        long valid_until_hours = 24 * 30;  // negative: already expired
        bool for_clients = false;          // extendedKeyUsage clientAuth instead of serverAuth
        long serial = 0;                   // 0: the next one
    };

    explicit TestCa(const std::string& name = "Gateway Test CA");
    ~TestCa();
    TestCa(const TestCa&) = delete;
    TestCa& operator=(const TestCa&) = delete;

    const std::filesystem::path& dir() const noexcept { return dir_; }
    /// The CA's certificate, what clients trust.
    std::string ca_file() const { return (dir_ / "ca.crt").string(); }

    /// Writes `<stem>.crt` and `<stem>.key` into dir() (or into `into`).
    Issued issue(const std::string& stem, const Options& options);
    Issued issue(const std::string& stem) { return issue(stem, Options{}); }
    Issued issue_into(const std::filesystem::path& into, const std::string& stem,
                      const Options& options);

private:
    struct Keys;
    std::filesystem::path dir_;
    std::unique_ptr<Keys> keys_;
    long next_serial_ = 1000;
};

}  // namespace test_tls
