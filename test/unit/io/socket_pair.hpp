#pragma once

#include <utility>  // before Asio's coroutine headers

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "io/executor.hpp"

namespace gateway::test {

/// A connected pair of sockets on 127.0.0.1: {the accepted side, the connecting side}.
inline std::pair<Socket, Socket> socket_pair(boost::asio::io_context& io) {
    using boost::asio::ip::tcp;
    Acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    Socket client(io);
    client.connect(acceptor.local_endpoint());
    return {acceptor.accept(), std::move(client)};
}

}  // namespace gateway::test
