#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/tls_config.hpp"

namespace gateway {

/// Which setting of a `tls:` block a problem is about, so the reader can place it.
enum class TlsSetting { cert, key, ca, ticket_key };

struct TlsProblem {
    TlsSetting setting;
    std::string message;
};

/// A file a TLS block names: where it is, how routes.yaml wrote it (for messages).
struct TlsFile {
    std::filesystem::path path;
    std::string written;
};

/// What building a context found: a context, or the problems that kept it from being built.
/// `digest` covers the bytes of every file read, so a reload can tell a rotated certificate
/// from an unchanged one.
struct BuiltTls {
    TlsContextPtr context;
    std::vector<std::string> names;  // the certificate's DNS names (server side)
    std::vector<TlsProblem> problems;
    std::string digest;
};

/// A server context for one certificate chain and its key: TLS 1.2 (or `min_version`) and
/// 1.3, Mozilla's intermediate ciphers, ALPN http/1.1, session tickets; with `client_ca`, a
/// client certificate signed by it is required; with `ticket_keys` (files of 80 bytes each: a
/// 16-byte name, a 32-byte HMAC secret, a 32-byte AES key, as NGINX's ssl_session_ticket_key),
/// tickets are sealed with the first instead of a key of the context's own, so that every
/// process given the same files, and every reload, resumes the others' sessions; the others
/// only open tickets sealed with them (a key being rotated out), whose sessions then get a
/// ticket sealed with the first. Checks that the files can be read and parsed, that the key is
/// the certificate's, and that the certificate is valid now.
BuiltTls build_server_context(const TlsFile& cert, const TlsFile& key, int min_version,
                              const TlsFile* client_ca, const std::vector<TlsFile>& ticket_keys);

/// The size of a session ticket key file.
inline constexpr std::size_t kTicketKeyBytes = 80;

/// A client context for an upstream: the same protocol bounds and ciphers, peer verification
/// against `ca` (null: the system's store) unless `verify` is false, a client certificate if
/// `cert` and `key` are given, ALPN http/1.1, session resumption through remember_sessions_in.
BuiltTls build_client_context(const TlsFile* ca, const TlsFile* cert, const TlsFile* key,
                              bool verify);

/// Installs SNI on `tls`'s default context: each handshake gets the certificate for the name
/// the client asked for. `tls` must outlive every handshake on its contexts.
void select_certificates_by_name(const ServerTls& tls);

}  // namespace gateway
