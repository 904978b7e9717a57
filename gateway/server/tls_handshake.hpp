#pragma once

#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>

#include "io/transport.hpp"
#include "observe/worker_metrics.hpp"

namespace gateway {

/// What the access log says about a client connection's TLS, taken once after its handshake.
struct TlsConnectionInfo {
    std::string_view version;  // "TLSv1.3": OpenSSL's static strings
    std::string_view cipher;
    std::string client_subject;  // RFC 2253; empty when the client showed no certificate
};

TlsConnectionInfo describe_tls(TlsStream& tls);

/// Why a client's handshake failed, as a metric label: `timed_out` when the stream's
/// deadline ended it.
TlsHandshakeFailure classify_handshake_failure(const boost::system::error_code& ec, bool timed_out);

}  // namespace gateway
