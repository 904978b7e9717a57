#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "config/tls_config.hpp"
#include "core/result.hpp"
#include "io/executor.hpp"
#include "io/timed_stream.hpp"

namespace gateway {

/// One upstream connection with the read buffer that belongs to it (bytes read past a response
/// must stay with the connection they came from).
struct UpstreamConnection {
    UpstreamConnection(Transport transport, std::chrono::steady_clock::duration granularity)
        : stream(std::move(transport), granularity) {}
    /// What the connection's TLS refers to and must outlive it (the connector's session slot);
    /// declared first, so it goes last.
    std::shared_ptr<void> tls_state;
    TimedStream stream;
    boost::beast::flat_buffer buffer;
};

/// Opens new connections to one upstream endpoint for a ConnectionPool, which is given one:
/// how a connection is made (plain TCP now; TCP and a TLS handshake with the upstream next) is
/// the connector's alone, and a test can hand the pool connections of its own making.
class Connector {
public:
    virtual ~Connector() = default;

    /// A connection ready for requests, its stream's deadlines at `granularity` (the shortest
    /// timeout its users set), made before `deadline`; or why none came: upstream_timeout or
    /// upstream_unreachable, naming the upstream, never its address.
    virtual Task<Result<std::unique_ptr<UpstreamConnection>>> connect(
        const Executor& executor, std::chrono::steady_clock::duration granularity,
        std::chrono::steady_clock::time_point deadline) = 0;
};

/// Plain TCP to one address, within a connect timeout, with Nagle off.
class TcpConnector final : public Connector {
public:
    /// `name`: "upstream NAME", for error details.
    TcpConnector(std::string name, boost::asio::ip::tcp::endpoint endpoint,
                 std::chrono::milliseconds connect_timeout)
        : name_(std::move(name)), endpoint_(endpoint), connect_timeout_(connect_timeout) {}

    Task<Result<std::unique_ptr<UpstreamConnection>>> connect(
        const Executor& executor, std::chrono::steady_clock::duration granularity,
        std::chrono::steady_clock::time_point deadline) override;

private:
    std::string name_;
    boost::asio::ip::tcp::endpoint endpoint_;
    std::chrono::milliseconds connect_timeout_;
};

/// TCP, then TLS with the upstream's `tls:` settings, both within the connect timeout. The
/// certificate is verified (chain and name) unless `verify: false`; the session is kept and
/// resumed by the next connection to the same endpoint.
class TlsConnector final : public Connector {
public:
    /// `host`: the endpoint's host as routes.yaml wrote it, the name verified and sent as SNI
    /// when `tls` names no server_name (an IP address is verified but never sent: RFC 6066).
    TlsConnector(std::string name, boost::asio::ip::tcp::endpoint endpoint,
                 std::chrono::milliseconds connect_timeout, std::shared_ptr<const UpstreamTls> tls,
                 const std::string& host);

    Task<Result<std::unique_ptr<UpstreamConnection>>> connect(
        const Executor& executor, std::chrono::steady_clock::duration granularity,
        std::chrono::steady_clock::time_point deadline) override;

private:
    TcpConnector tcp_;
    std::string name_;
    std::chrono::milliseconds connect_timeout_;
    std::shared_ptr<const UpstreamTls> tls_;
    std::string verified_name_;
    bool name_is_address_ = false;
    std::shared_ptr<TlsSessionSlot> sessions_ = std::make_shared<TlsSessionSlot>();
};

}  // namespace gateway
