#pragma once

#include "asio_types.hpp"

#include <boost/asio/ip/tcp.hpp>

namespace mock_backend {

/// Serves one accepted connection: HTTP/1.1 keep-alive loop, one request at a time (pipelined
/// requests are answered in order). Ends on the peer's close, a parse error, a deadline, a
/// response without keep-alive or a fault that ends the connection. Never lets an exception
/// out: whatever happens, only this connection is affected.
net::awaitable<void> serve_connection(net::ip::tcp::socket socket);

}  // namespace mock_backend
