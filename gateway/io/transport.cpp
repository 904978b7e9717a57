#include "io/transport.hpp"

#include <boost/asio/error.hpp>

namespace gateway {

namespace asio = boost::asio;

TlsSocket& Transport::start_tls(SSL_CTX* tls) {
    // Asio's stream takes an asio::ssl::context, uses it only to make its SSL object (which
    // holds its own reference to the SSL_CTX) and keeps nothing of it. The wrapper owns one
    // reference for its short life, taken here and given back by its destructor.
    SSL_CTX_up_ref(tls);
    asio::ssl::context wrapper(tls);
    return start_tls(wrapper);
}

void Transport::set_no_delay() {
    boost::system::error_code ignored;
    tcp().set_option(asio::ip::tcp::no_delay(true), ignored);
}

void Transport::shutdown_send() {
    boost::system::error_code ignored;
    tcp().shutdown(Socket::shutdown_send, ignored);
}

void Transport::shutdown_both() {
    boost::system::error_code ignored;
    tcp().shutdown(Socket::shutdown_both, ignored);
}

void Transport::close() {
    boost::system::error_code ignored;
    tcp().close(ignored);
}

std::string Transport::remote_address() const {
    boost::system::error_code ec;
    const auto remote = tcp().remote_endpoint(ec);
    return ec ? std::string("unknown") : remote.address().to_string();
}

}  // namespace gateway
