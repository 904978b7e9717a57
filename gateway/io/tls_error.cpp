#include "io/tls_error.hpp"

#include <boost/asio/ssl/error.hpp>
#include <openssl/err.h>

namespace gateway {

std::string tls_error_text(const boost::system::error_code& ec) {
    if (ec.category() == boost::asio::error::get_ssl_category()) {
        if (const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()))) {
            return reason;
        }
    }
    return ec.message();
}

}  // namespace gateway
