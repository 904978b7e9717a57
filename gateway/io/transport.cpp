#include "io/transport.hpp"

#include <boost/asio/error.hpp>

namespace gateway {

namespace asio = boost::asio;

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
