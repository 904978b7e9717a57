#pragma once

#include <memory>
#include <string>
#include <vector>

// OpenSSL's context and connection types, declared rather than included: everything that reads
// a Config would otherwise compile OpenSSL's headers.
struct ssl_ctx_st;
struct ssl_st;

namespace gateway {

/// An OpenSSL context (SSL_CTX) built when the config loads: certificates parsed, keys matched,
/// settings applied. Like a compiled schema it belongs to the snapshot, so a reload that fails
/// keeps the old certificates and a connection keeps the context it was accepted with.
using TlsContextPtr = std::shared_ptr<ssl_ctx_st>;

/// routes.yaml `tls:`, the client side's TLS, ready to serve.
struct ServerTls {
    struct Certificate {
        std::string cert_file;  // resolved paths, for logs and /routes
        std::string key_file;
        /// The DNS names it is for (subjectAltName, else the subject's CN): what SNI matches.
        std::vector<std::string> names;
        TlsContextPtr context;
    };
    /// The first is the default (no SNI, or a name none of them holds); handshakes start on it.
    std::vector<Certificate> certificates;
    int min_version = 0;        // TLS1_2_VERSION or TLS1_3_VERSION
    std::string client_ca_file;  // empty: no client certificate asked for

    /// The context a handshake starts with.
    ssl_ctx_st* default_context() const { return certificates.front().context.get(); }
    /// The certificate for a handshake's server name (RFC 6066 SNI, compared without case,
    /// "*.example.com" matching one label), or null when none is for it.
    const Certificate* find(std::string_view server_name) const;
};

/// Where a TLS connection to an upstream keeps the session it can resume next time (TLS 1.3
/// sends its tickets after the handshake, so the session arrives during the first read).
/// One per connector: connections to the same endpoint share it.
struct TlsSessionSlot {
    std::shared_ptr<void> session;  // an SSL_SESSION, freed with SSL_SESSION_free
};

/// An upstream's `tls:`, ready to connect with.
struct UpstreamTls {
    std::string ca_file;      // empty: the system's CA store
    std::string server_name;  // empty: the endpoint's host name (none for an IP address)
    std::string cert_file;    // a client certificate, for upstreams that ask for one
    std::string key_file;
    bool verify = true;
    TlsContextPtr context;
    /// Of the settings and the files' bytes: a pool made under other ones is not reused.
    std::string digest;
};

/// Has `ssl`, an upstream connection's TLS, store the sessions its server sends in `slot`,
/// which must outlive it.
void remember_sessions_in(ssl_st* ssl, TlsSessionSlot* slot);

}  // namespace gateway
