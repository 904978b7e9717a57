#include "server/tls_handshake.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace gateway {

namespace asio = boost::asio;

TlsConnectionInfo describe_tls(TlsStream& tls) {
    SSL* ssl = tls.native_handle();
    TlsConnectionInfo info;
    info.version = SSL_get_version(ssl);
    if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl)) info.cipher = SSL_CIPHER_get_name(cipher);
    if (X509* peer = SSL_get0_peer_certificate(ssl)) {
        BIO* out = BIO_new(BIO_s_mem());
        X509_NAME_print_ex(out, X509_get_subject_name(peer), 0, XN_FLAG_RFC2253);
        char* text = nullptr;
        const long size = BIO_get_mem_data(out, &text);
        if (size > 0) info.client_subject.assign(text, static_cast<std::size_t>(size));
        BIO_free(out);
    }
    return info;
}

TlsHandshakeFailure classify_handshake_failure(const boost::system::error_code& ec, bool timed_out) {
    if (timed_out) return TlsHandshakeFailure::timeout;
    if (ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == asio::ssl::error::stream_truncated || ec == asio::error::broken_pipe) {
        return TlsHandshakeFailure::closed;
    }
    if (ec.category() != asio::error::get_ssl_category()) return TlsHandshakeFailure::other;
    switch (ERR_GET_REASON(static_cast<unsigned long>(ec.value()))) {
        case SSL_R_UNSUPPORTED_PROTOCOL:
        case SSL_R_VERSION_TOO_LOW:
        case SSL_R_WRONG_VERSION_NUMBER:
        case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION: return TlsHandshakeFailure::protocol_version;
        case SSL_R_NO_SHARED_CIPHER:
        case SSL_R_NO_SHARED_GROUPS:
        case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM: return TlsHandshakeFailure::no_shared_cipher;
        case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
        case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED: return TlsHandshakeFailure::no_client_certificate;
        case SSL_R_CERTIFICATE_VERIFY_FAILED: return TlsHandshakeFailure::bad_client_certificate;
        // The client's alerts about our certificate: it does not trust what we serve.
        case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
        case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
        case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
        case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN: return TlsHandshakeFailure::certificate_refused;
        default: return TlsHandshakeFailure::other;
    }
}

}  // namespace gateway
