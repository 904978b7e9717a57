#include "upstream/connector.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "io/tls_error.hpp"

namespace gateway {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

Task<Result<std::unique_ptr<UpstreamConnection>>> TcpConnector::connect(
    const Executor& executor, Clock::duration granularity, Clock::time_point deadline) {
    auto connection = std::make_unique<UpstreamConnection>(Transport(executor), granularity);
    connection->stream.expires_at(std::min(deadline, Clock::now() + connect_timeout_));
    boost::system::error_code ec;
    co_await connection->stream.transport().tcp().async_connect(
        endpoint_, asio::redirect_error(use_task, ec));
    ec = connection->stream.result(ec);
    if (ec == boost::beast::error::timeout) {
        co_return Error{Errc::upstream_timeout, "connecting to " + name_ + " took longer than " +
                                                    std::to_string(connect_timeout_.count()) +
                                                    " ms"};
    }
    if (ec) {
        co_return Error{Errc::upstream_unreachable,
                        "connecting to " + name_ + " failed: " + ec.message()};
    }
    connection->stream.transport().set_no_delay();
    co_return std::move(connection);
}

TlsConnector::TlsConnector(std::string name, asio::ip::tcp::endpoint endpoint,
                           std::chrono::milliseconds connect_timeout,
                           std::shared_ptr<const UpstreamTls> tls, const std::string& host)
    : tcp_(name, endpoint, connect_timeout),
      name_(std::move(name)),
      connect_timeout_(connect_timeout),
      tls_(std::move(tls)) {
    verified_name_ = tls_->server_name.empty() ? host : tls_->server_name;
    boost::system::error_code ec;
    asio::ip::make_address(verified_name_, ec);
    name_is_address_ = !ec;
}

namespace {

// Why the handshake failed, in the words of OpenSSL: the verification's reason when it was
// the certificate ("certificate has expired", "hostname mismatch"), else the protocol's.
std::string tls_failure_reason(SSL* ssl, const boost::system::error_code& ec) {
    const long verified = SSL_get_verify_result(ssl);
    if (verified != X509_V_OK) {
        return std::string("its certificate did not verify: ") +
               X509_verify_cert_error_string(verified);
    }
    return tls_error_text(ec);
}

}  // namespace

Task<Result<std::unique_ptr<UpstreamConnection>>> TlsConnector::connect(
    const Executor& executor, Clock::duration granularity, Clock::time_point deadline) {
    const auto handshake_deadline = std::min(deadline, Clock::now() + connect_timeout_);
    auto connected = co_await tcp_.connect(executor, granularity, deadline);
    if (!connected) co_return connected;
    std::unique_ptr<UpstreamConnection> connection = std::move(*connected);
    TlsStream& tls = connection->stream.transport().start_tls(tls_->context.get());
    SSL* ssl = tls.native_handle();
    if (!name_is_address_) SSL_set_tlsext_host_name(ssl, verified_name_.c_str());
    if (tls_->verify) {
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (name_is_address_) {
            X509_VERIFY_PARAM_set1_ip_asc(param, verified_name_.c_str());
        } else {
            X509_VERIFY_PARAM_set1_host(param, verified_name_.c_str(), verified_name_.size());
        }
    }
    connection->tls_state = sessions_;
    remember_sessions_in(ssl, sessions_.get());
    connection->stream.expires_at(handshake_deadline);
    boost::system::error_code ec;
    co_await tls.async_handshake(TlsStream::Role::client, asio::redirect_error(use_task, ec));
    if (connection->stream.timed_out()) {
        co_return Error{Errc::upstream_timeout, "connecting to " + name_ + " over TLS took longer than " +
                                                    std::to_string(connect_timeout_.count()) + " ms"};
    }
    if (ec) {
        // A session that failed must not be offered again.
        sessions_->session.reset();
        co_return Error{Errc::upstream_tls_failed,
                        "TLS with " + name_ + " failed: " + tls_failure_reason(ssl, ec)};
    }
    co_return std::move(connection);
}

}  // namespace gateway
