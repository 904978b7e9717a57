#pragma once

#include "asio_types.hpp"
#include "test_hooks.hpp"

namespace mock_backend {

/// Puts `plan` on the wire: waits out its delay, then writes the response the way its
/// Delivery says. Returns whether the connection may read another request; false also on
/// any I/O error. Never throws for I/O errors (they arrive as error codes).
net::awaitable<bool> deliver(Stream& stream, Plan& plan);

}  // namespace mock_backend
