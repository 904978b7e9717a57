#pragma once

#include <chrono>

#include "http_types.hpp"

namespace mock_backend {

/// How the session puts the planned response on the wire.
enum class Delivery {
    normal,     // write it, keep the connection if both sides want to
    hang,       // write nothing, wait for the peer to close
    close,      // write nothing, close
    half_body,  // Content-Length: 100, 50 body bytes, close
    cut,        // the full Content-Length, half the body, close
    garbage,    // a line that is not HTTP, close
    chunked,    // the response with Transfer-Encoding: chunked, in two chunks
    slow,       // the response a few bytes at a time over a few seconds
};

/// Everything the session needs to answer one request: decided up front, without I/O.
struct Plan {
    Response response;
    Delivery delivery = Delivery::normal;
    std::chrono::milliseconds delay{0};  // waited (asynchronously) before delivering
};

/// Applies the test hooks to the documented answer:
///  - x-mock-echo: 1      the answer is echo_json() of the request instead of the route's body
///  - x-mock-status: NNN  the answer's status becomes NNN (200..599), body unchanged
///  - x-mock-fault: MODE  a canned answer or a broken delivery, see FaultMode
/// A malformed hook value gets a 400 ErrorMessage naming what is accepted. The response comes
/// back finalized (framing headers set).
Plan plan_request(const Request& req);

}  // namespace mock_backend
