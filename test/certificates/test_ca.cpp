#include "test_ca.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <random>
#include <stdexcept>

namespace test_tls {

namespace fs = std::filesystem;

struct TestCa::Keys {
    EVP_PKEY* key = nullptr;
    X509* certificate = nullptr;
    ~Keys() {
        EVP_PKEY_free(key);
        X509_free(certificate);
    }
};

namespace {

void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("test CA: ") + what + " failed");
}

void add_extension(X509* certificate, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
    check(extension != nullptr, "an extension");
    X509_add_ext(certificate, extension, -1);
    X509_EXTENSION_free(extension);
}

X509* new_certificate(EVP_PKEY* key, const std::string& common_name, long serial,
                      long from_hours, long until_hours) {
    X509* certificate = X509_new();
    X509_set_version(certificate, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(certificate), serial);
    X509_gmtime_adj(X509_getm_notBefore(certificate), from_hours * 3600);
    X509_gmtime_adj(X509_getm_notAfter(certificate), until_hours * 3600);
    X509_set_pubkey(certificate, key);
    X509_NAME* name = X509_get_subject_name(certificate);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("Gateway Tests"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
    return certificate;
}

void write_pem(const fs::path& path, X509* certificate, EVP_PKEY* key) {
    std::FILE* out = std::fopen(path.c_str(), "wb");
    check(out != nullptr, "opening a file");
    const bool ok = certificate ? PEM_write_X509(out, certificate) == 1
                                : PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
    std::fclose(out);
    check(ok, "writing PEM");
}

}  // namespace

TestCa::TestCa(const std::string& name) : keys_(std::make_unique<Keys>()) {
    std::random_device random;
    dir_ = fs::temp_directory_path() / ("gateway-test-ca-" + std::to_string(random()));
    fs::create_directories(dir_);
    keys_->key = EVP_EC_gen("P-256");
    check(keys_->key != nullptr, "making a key");
    keys_->certificate = new_certificate(keys_->key, name, 1, -24, 24 * 365);
    X509_set_issuer_name(keys_->certificate, X509_get_subject_name(keys_->certificate));
    add_extension(keys_->certificate, keys_->certificate, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(keys_->certificate, keys_->certificate, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_extension(keys_->certificate, keys_->certificate, NID_subject_key_identifier, "hash");
    check(X509_sign(keys_->certificate, keys_->key, EVP_sha256()) > 0, "signing the CA");
    write_pem(ca_file(), keys_->certificate, nullptr);
}

TestCa::~TestCa() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
}

Issued TestCa::issue(const std::string& stem, const Options& options) {
    return issue_into(dir_, stem, options);
}

Issued TestCa::issue_into(const fs::path& into, const std::string& stem, const Options& options) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    check(key != nullptr, "making a key");
    const long serial = options.serial ? options.serial : next_serial_++;
    X509* certificate = new_certificate(key, options.common_name, serial, options.valid_from_hours,
                                        options.valid_until_hours);
    X509_set_issuer_name(certificate, X509_get_subject_name(keys_->certificate));
    std::string alt_names;
    for (const auto& dns : options.dns_names) alt_names += (alt_names.empty() ? "DNS:" : ",DNS:") + dns;
    for (const auto& ip : options.ip_addresses) alt_names += (alt_names.empty() ? "IP:" : ",IP:") + ip;
    if (!alt_names.empty()) add_extension(certificate, keys_->certificate, NID_subject_alt_name, alt_names);
    add_extension(certificate, keys_->certificate, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(certificate, keys_->certificate, NID_ext_key_usage,
                  options.for_clients ? "clientAuth" : "serverAuth");
    add_extension(certificate, keys_->certificate, NID_authority_key_identifier, "keyid");
    check(X509_sign(certificate, keys_->key, EVP_sha256()) > 0, "signing");
    fs::create_directories(into);
    Issued issued{(into / (stem + ".crt")).string(), (into / (stem + ".key")).string(), serial};
    write_pem(issued.cert, certificate, nullptr);
    write_pem(issued.key, nullptr, key);
    X509_free(certificate);
    EVP_PKEY_free(key);
    return issued;
}

}  // namespace test_tls
