// OpenSSL contexts out of the files a `tls:` block names, with every check an operator needs
// before shipping: readable, parseable, key and certificate a pair, certificate valid now.
#include "config/tls_context.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <vector>

#include "core/text.hpp"

namespace gateway {
namespace {

namespace fs = std::filesystem;

// Mozilla's "intermediate" TLS 1.2 suites, in its order, without the DHE ones: ECDHE key exchange and AEAD
// ciphers only, for ECDSA and RSA keys. Every client that has these has ECDHE too; finite-field
// DHE costs more per handshake and is what scanners flag. TLS 1.3's suites are OpenSSL's
// defaults, which are Mozilla's list.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kGroups = "X25519:P-256:P-384";
constexpr std::uintmax_t kMaxPemBytes = 1024 * 1024;
// ALPN's wire form: a length-prefixed list (RFC 7301).
constexpr unsigned char kHttp11Alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

template <auto Free>
struct Freer {
    template <typename T>
    void operator()(T* p) const noexcept { Free(p); }
};
using X509Ptr = std::unique_ptr<X509, Freer<X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Freer<EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Freer<BIO_free>>;
using ContextPtr = std::unique_ptr<SSL_CTX, Freer<SSL_CTX_free>>;

std::string shown(const TlsFile& file) {
    const std::string resolved = file.path.string();
    if (resolved == file.written) return "'" + file.written + "'";
    return "'" + file.written + "' (" + resolved + ")";
}

// OpenSSL's reason for the last failure, or `fallback`; the error queue is left empty.
std::string openssl_reason(std::string_view fallback) {
    const unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    if (code == 0) return std::string(fallback);
    const char* reason = ERR_reason_error_string(code);
    return reason ? reason : std::string(fallback);
}

class Collector {
public:
    explicit Collector(BuiltTls& built) : built_(built) {}

    std::optional<std::string> read(const TlsFile& file, TlsSetting setting) {
        // Only regular files, and small ones: a FIFO or a device (/dev/stdin, /dev/zero) named
        // by mistake must not hang --check or a reload.
        std::error_code ec;
        const auto status = fs::status(file.path, ec);
        if (fs::is_directory(status)) {
            problem(setting, "cannot read " + shown(file) + ": it is a directory");
            return std::nullopt;
        }
        if (fs::exists(status) && !fs::is_regular_file(status)) {
            problem(setting, "cannot read " + shown(file) + ": it is not a regular file");
            return std::nullopt;
        }
        if (fs::is_regular_file(status) && fs::file_size(file.path, ec) > kMaxPemBytes) {
            problem(setting, shown(file) + " is larger than 1 MiB: no certificate, key or CA "
                                           "bundle is that big");
            return std::nullopt;
        }
        std::FILE* in = std::fopen(file.path.c_str(), "rb");
        if (!in) {
            problem(setting, "cannot read " + shown(file) + ": " + std::strerror(errno));
            return std::nullopt;
        }
        std::string text;
        char chunk[8192];
        std::size_t n = 0;
        while ((n = std::fread(chunk, 1, sizeof chunk, in)) > 0) text.append(chunk, n);
        const bool failed = std::ferror(in) != 0;
        const int error = errno;
        std::fclose(in);
        if (failed) {
            problem(setting, "cannot read " + shown(file) + ": " + std::strerror(error));
            return std::nullopt;
        }
        built_.digest = fnv1a64_hex(text, built_.digest);
        return text;
    }

    void problem(TlsSetting setting, std::string message) {
        built_.problems.push_back({setting, std::move(message)});
    }
    bool failed() const { return !built_.problems.empty(); }

private:
    BuiltTls& built_;
};

// Every certificate in a PEM text, in order.
std::vector<X509Ptr> parse_certificates(const std::string& text) {
    std::vector<X509Ptr> certificates;
    BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
        certificates.emplace_back(certificate);
    }
    ERR_clear_error();  // the end of the text is reported as an error
    return certificates;
}

int refuse_passphrase(char*, int, int, void*) { return 0; }

std::string utc_text(const ASN1_TIME* time) {
    std::tm parts{};
    if (ASN1_TIME_to_tm(time, &parts) != 1) return "an unreadable date";
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &parts);
    return text;
}

std::vector<std::string> dns_names(X509* certificate) {
    std::vector<std::string> names;
    auto* alt_names = static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
    if (alt_names) {
        for (int i = 0; i < sk_GENERAL_NAME_num(alt_names); ++i) {
            const GENERAL_NAME* name = sk_GENERAL_NAME_value(alt_names, i);
            if (name->type != GEN_DNS) continue;
            const ASN1_STRING* text = name->d.dNSName;
            names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                               static_cast<std::size_t>(ASN1_STRING_length(text)));
        }
        GENERAL_NAMES_free(alt_names);
    }
    if (names.empty()) {
        // No subjectAltName DNS entry: the subject's common name, as clients did before RFC 6125.
        X509_NAME* subject = X509_get_subject_name(certificate);
        const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
        if (index >= 0) {
            const ASN1_STRING* text = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
            names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                               static_cast<std::size_t>(ASN1_STRING_length(text)));
        }
    }
    return names;
}

struct CertificateAndKey {
    std::vector<X509Ptr> chain;  // the certificate first, then its intermediates
    KeyPtr key;
};

// Reads and checks a certificate chain and its key; nothing when a problem was reported.
std::optional<CertificateAndKey> load_pair(Collector& collector, const TlsFile& cert_file,
                                           const TlsFile& key_file) {
    const auto cert_text = collector.read(cert_file, TlsSetting::cert);
    const auto key_text = collector.read(key_file, TlsSetting::key);
    CertificateAndKey pair;
    if (cert_text) {
        pair.chain = parse_certificates(*cert_text);
        if (pair.chain.empty()) {
            collector.problem(TlsSetting::cert, shown(cert_file) + " holds no PEM certificate "
                                                "(a '-----BEGIN CERTIFICATE-----' block)");
        }
    }
    if (key_text) {
        BioPtr bio(BIO_new_mem_buf(key_text->data(), static_cast<int>(key_text->size())));
        pair.key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_passphrase, nullptr));
        if (!pair.key) {
            ERR_clear_error();
            collector.problem(TlsSetting::key,
                              shown(key_file) + " holds no PEM private key, or one encrypted with "
                                                "a passphrase (decrypt it: openssl pkey -in KEY "
                                                "-out KEY.plain)");
        }
    }
    if (pair.chain.empty() || !pair.key) return std::nullopt;
    X509* leaf = pair.chain.front().get();
    if (X509_check_private_key(leaf, pair.key.get()) != 1) {
        ERR_clear_error();
        collector.problem(TlsSetting::key, "the key " + shown(key_file) +
                                               " does not belong to the certificate " +
                                               shown(cert_file));
        return std::nullopt;
    }
    if (X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0) {
        collector.problem(TlsSetting::cert, "the certificate " + shown(cert_file) + " expired on " +
                                                utc_text(X509_get0_notAfter(leaf)));
        return std::nullopt;
    }
    if (X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0) {
        collector.problem(TlsSetting::cert, "the certificate " + shown(cert_file) +
                                                " is not valid before " +
                                                utc_text(X509_get0_notBefore(leaf)));
        return std::nullopt;
    }
    return pair;
}

// The protocol bounds and ciphers both sides use.
ContextPtr new_context(const SSL_METHOD* method, int min_version) {
    ContextPtr context(SSL_CTX_new(method));
    if (!context) return context;
    SSL_CTX_set_min_proto_version(context.get(), min_version);
    // The server's order wins: every suite here is strong, so this only keeps a client from
    // picking the weakest (scanners flag a server without an order), and ChaCha20 goes first for
    // clients that prefer it (no AES instructions: phones).
    SSL_CTX_set_options(context.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                           SSL_OP_CIPHER_SERVER_PREFERENCE |
                                           SSL_OP_PRIORITIZE_CHACHA);
    SSL_CTX_set_cipher_list(context.get(), kTls12Ciphers);
    SSL_CTX_set1_groups_list(context.get(), kGroups);
    // An idle connection gives its record buffers back (34 KiB each); mimalloc makes taking
    // them again cheap.
    SSL_CTX_set_mode(context.get(), SSL_MODE_RELEASE_BUFFERS);
    return context;
}

// A session ticket key file's 80 bytes, as NGINX lays them out.
struct TicketKey {
    unsigned char name[16];
    unsigned char hmac_secret[32];
    unsigned char aes_key[32];
};
static_assert(sizeof(TicketKey) == kTicketKeyBytes);

// The keys a context seals and opens tickets with, the sealing one first; owned by the
// context (freed with it, through its ex_data slot).
struct TicketKeys {
    std::vector<TicketKey> keys;
    ~TicketKeys() { OPENSSL_cleanse(keys.data(), keys.size() * sizeof(TicketKey)); }
};

void free_ticket_keys(void*, void* keys, CRYPTO_EX_DATA*, int, long, void*) {
    delete static_cast<TicketKeys*>(keys);
}

int ticket_keys_index() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_ticket_keys);
    return index;
}

// OpenSSL's ticket callback (RFC 5077's recommended layout: AES-256-CBC, HMAC-SHA256).
// Sealing (enc 1): the first key. Opening: the key the ticket names; none known is a full
// handshake (0); an older key opens it and asks for a new ticket sealed with the first (2).
int seal_or_open_ticket(SSL* ssl, unsigned char name[16], unsigned char iv[EVP_MAX_IV_LENGTH],
                        EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int enc) {
    const auto* keys = static_cast<const TicketKeys*>(
        SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ticket_keys_index()));
    if (!keys || keys->keys.empty()) return -1;
    const TicketKey* key = nullptr;
    std::size_t position = 0;
    if (enc == 1) {
        key = &keys->keys.front();
        std::memcpy(name, key->name, sizeof key->name);
        if (RAND_bytes(iv, EVP_CIPHER_iv_length(EVP_aes_256_cbc())) != 1) return -1;
    } else {
        for (; position < keys->keys.size(); ++position) {
            if (std::memcmp(keys->keys[position].name, name, sizeof key->name) == 0) break;
        }
        if (position == keys->keys.size()) return 0;
        key = &keys->keys[position];
    }
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(key->hmac_secret),
                                          sizeof key->hmac_secret),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
    if (EVP_MAC_CTX_set_params(mac, params) != 1) return -1;
    if (EVP_CipherInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes_key, iv, enc) != 1) return -1;
    return enc == 1 || position == 0 ? 1 : 2;
}

// Each file's 80 bytes, as they are (binary, like NGINX's layout).
void use_ticket_keys(Collector& collector, SSL_CTX* context, const std::vector<TlsFile>& files) {
    auto keys = std::make_unique<TicketKeys>();
    for (const TlsFile& file : files) {
        auto bytes = collector.read(file, TlsSetting::ticket_key);
        if (!bytes) return;
        if (bytes->size() != kTicketKeyBytes) {
            collector.problem(TlsSetting::ticket_key,
                              shown(file) + " must hold exactly 80 bytes (make one with: openssl rand 80 > " +
                                  file.written + "), it holds " + std::to_string(bytes->size()));
            return;
        }
        TicketKey key;
        std::memcpy(&key, bytes->data(), sizeof key);
        OPENSSL_cleanse(bytes->data(), bytes->size());
        keys->keys.push_back(key);
        OPENSSL_cleanse(&key, sizeof key);
    }
    if (SSL_CTX_set_ex_data(context, ticket_keys_index(), keys.get()) != 1) {
        collector.problem(TlsSetting::ticket_key, "OpenSSL could not keep the ticket keys: " +
                                                      openssl_reason("unknown reason"));
        return;
    }
    keys.release();  // the context owns them now
    SSL_CTX_set_tlsext_ticket_key_evp_cb(context, seal_or_open_ticket);
}

bool install_pair(SSL_CTX* context, CertificateAndKey& pair) {
    if (SSL_CTX_use_certificate(context, pair.chain.front().get()) != 1) return false;
    for (std::size_t i = 1; i < pair.chain.size(); ++i) {
        if (SSL_CTX_add1_chain_cert(context, pair.chain[i].get()) != 1) return false;
    }
    return SSL_CTX_use_PrivateKey(context, pair.key.get()) == 1;
}

// Adds the CA file's certificates to the context's store; false when it had none.
bool trust(Collector& collector, SSL_CTX* context, const TlsFile& ca, bool ask_clients) {
    const auto text = collector.read(ca, TlsSetting::ca);
    if (!text) return false;
    auto certificates = parse_certificates(*text);
    if (certificates.empty()) {
        collector.problem(TlsSetting::ca, shown(ca) + " holds no PEM certificate "
                                                      "(a '-----BEGIN CERTIFICATE-----' block)");
        return false;
    }
    X509_STORE* store = SSL_CTX_get_cert_store(context);
    STACK_OF(X509_NAME)* names = ask_clients ? sk_X509_NAME_new_null() : nullptr;
    for (auto& certificate : certificates) {
        X509_STORE_add_cert(store, certificate.get());
        if (names) sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(certificate.get())));
    }
    ERR_clear_error();  // a certificate listed twice is reported, and harmless
    if (names) SSL_CTX_set_client_CA_list(context, names);  // takes the list
    return true;
}

int select_http11(SSL*, const unsigned char** out, unsigned char* out_length,
                  const unsigned char* offered, unsigned int offered_length, void*) {
    unsigned char* chosen = nullptr;
    if (SSL_select_next_proto(&chosen, out_length, kHttp11Alpn, sizeof kHttp11Alpn, offered,
                              offered_length) != OPENSSL_NPN_NEGOTIATED) {
        // The client offers only protocols we do not speak (h2 alone): go on without ALPN
        // and let it decide, rather than fail the handshake.
        return SSL_TLSEXT_ERR_NOACK;
    }
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

int session_slot_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

int keep_session(SSL* ssl, SSL_SESSION* session) {
    auto* slot = static_cast<TlsSessionSlot*>(SSL_get_ex_data(ssl, session_slot_index()));
    if (!slot) return 0;  // 0: OpenSSL keeps its reference and frees the session itself
    slot->session.reset(session, [](void* s) { SSL_SESSION_free(static_cast<SSL_SESSION*>(s)); });
    return 1;
}

int choose_certificate(SSL* ssl, int*, void* argument) {
    const auto* tls = static_cast<const ServerTls*>(argument);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!name) return SSL_TLSEXT_ERR_OK;  // no SNI: the default certificate
    const ServerTls::Certificate* certificate = tls->find(name);
    if (certificate && certificate->context.get() != tls->default_context()) {
        SSL_set_SSL_CTX(ssl, certificate->context.get());
    }
    // A name none of them holds gets the default certificate, as NGINX does: the client's own
    // verification then reports the mismatch, with a better message than an alert would.
    return SSL_TLSEXT_ERR_OK;
}

TlsContextPtr shared(ContextPtr context) {
    return TlsContextPtr(context.release(), [](SSL_CTX* c) { SSL_CTX_free(c); });
}

bool name_matches(std::string_view pattern, std::string_view name) {
    if (iequals(pattern, name)) return true;
    // "*.example.com" stands for exactly one label: a.example.com, not a.b.example.com.
    if (pattern.size() < 3 || pattern.substr(0, 2) != "*.") return false;
    const std::size_t dot = name.find('.');
    return dot != std::string_view::npos && dot > 0 && iequals(pattern.substr(1), name.substr(dot));
}

}  // namespace

const ServerTls::Certificate* ServerTls::find(std::string_view server_name) const {
    for (const auto& certificate : certificates) {
        for (const auto& name : certificate.names) {
            if (name_matches(name, server_name)) return &certificate;
        }
    }
    return nullptr;
}

void remember_sessions_in(ssl_st* ssl, TlsSessionSlot* slot) {
    SSL_set_ex_data(ssl, session_slot_index(), slot);
    if (slot->session) SSL_set_session(ssl, static_cast<SSL_SESSION*>(slot->session.get()));
}

BuiltTls build_server_context(const TlsFile& cert, const TlsFile& key, int min_version,
                              const TlsFile* client_ca, const std::vector<TlsFile>& ticket_keys) {
    BuiltTls built;
    Collector collector(built);
    auto pair = load_pair(collector, cert, key);
    ContextPtr context = new_context(TLS_server_method(), min_version);
    if (!ticket_keys.empty()) use_ticket_keys(collector, context.get(), ticket_keys);
    if (client_ca && trust(collector, context.get(), *client_ca, true)) {
        SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                           nullptr);
    }
    if (!pair || collector.failed()) return built;
    if (!install_pair(context.get(), *pair)) {
        collector.problem(TlsSetting::cert,
                          "OpenSSL refused " + shown(cert) + ": " + openssl_reason("unknown reason"));
        return built;
    }
    built.names = dns_names(pair->chain.front().get());
    // Resumption by tickets only: the key that seals them lives in the context, so no session
    // is stored per client. The id context is what a resumed session must have been made
    // under; OpenSSL refuses to resume sessions with verified client certificates without one.
    SSL_CTX_set_session_cache_mode(context.get(), SSL_SESS_CACHE_OFF);
    static constexpr unsigned char kSessionContext[] = "gateway";
    SSL_CTX_set_session_id_context(context.get(), kSessionContext, sizeof kSessionContext - 1);
    // One TLS 1.3 ticket per connection, not OpenSSL's two: each new connection gets a fresh
    // one anyway, and the second cost every handshake a sealed session and a send of its own
    // (strace: two 271-byte sends after the handshake). Below the noise of a CPU measurement
    // on this VM (A/B, 3 rounds each: 326-352 against 335-405 µs per new connection).
    SSL_CTX_set_num_tickets(context.get(), 1);
    SSL_CTX_set_alpn_select_cb(context.get(), select_http11, nullptr);
    built.context = shared(std::move(context));
    return built;
}

BuiltTls build_client_context(const TlsFile* ca, const TlsFile* cert, const TlsFile* key,
                              bool verify) {
    BuiltTls built;
    Collector collector(built);
    ContextPtr context = new_context(TLS_client_method(), TLS1_2_VERSION);
    std::optional<CertificateAndKey> pair;
    if (cert && key) pair = load_pair(collector, *cert, *key);
    if (verify) {
        SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER, nullptr);
        if (ca) {
            trust(collector, context.get(), *ca, false);
        } else if (SSL_CTX_set_default_verify_paths(context.get()) != 1) {
            collector.problem(TlsSetting::ca, "the system's CA store cannot be loaded: " +
                                                  openssl_reason("unknown reason"));
        }
    } else {
        SSL_CTX_set_verify(context.get(), SSL_VERIFY_NONE, nullptr);
    }
    if (collector.failed()) return built;
    if (pair && !install_pair(context.get(), *pair)) {
        collector.problem(TlsSetting::cert,
                          "OpenSSL refused " + shown(*cert) + ": " + openssl_reason("unknown reason"));
        return built;
    }
    SSL_CTX_set_alpn_protos(context.get(), kHttp11Alpn, sizeof kHttp11Alpn);
    // Sessions are kept by the connector that made them (remember_sessions_in), not in the
    // context, so one endpoint's session is never offered to another.
    SSL_CTX_set_session_cache_mode(context.get(),
                                   SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(context.get(), keep_session);
    built.context = shared(std::move(context));
    return built;
}

void select_certificates_by_name(const ServerTls& tls) {
    if (tls.certificates.size() < 2) return;
    SSL_CTX_set_tlsext_servername_callback(tls.default_context(), choose_certificate);
    SSL_CTX_set_tlsext_servername_arg(tls.default_context(), const_cast<ServerTls*>(&tls));
}

}  // namespace gateway
