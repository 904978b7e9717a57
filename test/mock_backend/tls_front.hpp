#pragma once

#include "asio_types.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

namespace mock_backend {

/// A server context with a certificate chain and key (PEM files), TLS 1.2 and 1.3, for a mock
/// that stands for a backend reached over TLS. With `client_ca_file` (PEM), clients must
/// present a certificate it signed. Throws boost::system::system_error naming the file when
/// one cannot be used.
std::shared_ptr<net::ssl::context> make_tls_context(const std::string& cert_file,
                                                    const std::string& key_file,
                                                    const std::string& client_ca_file);

/// Serves one TLS connection: the handshake, then every byte relayed both ways between the
/// TLS client and a plain connection to `inner`, the mock's own plain listener. So the mock
/// behaves over TLS exactly as it does in the clear, faults and all, with its HTTP code
/// written once. With `log_handshakes`, each handshake prints a line on stdout:
/// "tls handshake: resumed=yes|no client=SUBJECT|-" (what a test of the client side checks).
net::awaitable<void> serve_tls_connection(net::ip::tcp::socket socket,
                                          std::shared_ptr<net::ssl::context> tls,
                                          net::ip::tcp::endpoint inner, bool log_handshakes);

}  // namespace mock_backend
