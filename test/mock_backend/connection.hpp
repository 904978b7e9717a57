#pragma once

#include "asio_types.hpp"

#include <boost/asio/ip/tcp.hpp>

#include "mock_state.hpp"

namespace mock_backend {

/// Serves one accepted connection: HTTP/1.1 keep-alive loop, one request at a time (pipelined
/// requests are answered in order). Ends on the peer's close, a parse error, a deadline, a
/// response without keep-alive or a fault that ends the connection. Never lets an exception
/// out: whatever happens, only this connection is affected. `state` must outlive it.
net::awaitable<void> serve_connection(net::ip::tcp::socket socket, MockState& state);

}  // namespace mock_backend
