#pragma once

#include <boost/system/error_code.hpp>

#include <string>

namespace gateway {

/// Why a TLS operation failed, in OpenSSL's words ("unsupported protocol", "no shared cipher",
/// "certificate verify failed"), or the error's own message when it is not OpenSSL's. The same
/// for both sides: a client's handshake in the log, an upstream's in a 502's detail.
std::string tls_error_text(const boost::system::error_code& ec);

}  // namespace gateway
