#pragma once

#include <chrono>
#include <optional>

#include "faults.hpp"
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
    extra_late,  // the response, then kStrayResponse 50 ms later; the connection stays open
    extra_now,   // the response and kStrayResponse in one write; the connection stays open
};

/// What the extra-response faults send after the real answer: a whole, valid response that
/// answers nothing, so a client that reads it as its own answer is easy to tell.
inline constexpr const char* kStrayResponse =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 38\r\n\r\n"
    "{\"stray\":\"an answer meant for nobody\"}";

/// Everything the session needs to answer one request: decided up front, without I/O.
struct Plan {
    Response response;
    Delivery delivery = Delivery::normal;
    std::chrono::milliseconds delay{0};  // waited (asynchronously) before delivering
};

/// Applies the test hooks to the documented answer:
///  - x-mock-echo: 1      the answer is echo_json() of the request instead of the route's body
///  - x-mock-status: NNN  the answer's status becomes NNN (100..999, so invalid ones too),
///                        body unchanged
///  - x-mock-fault: MODE  a canned answer or a broken delivery, see FaultMode
/// A request without x-mock-fault gets `standing_fault` (PUT /__mock/fault) instead, if set.
/// A malformed hook value gets a 400 ErrorMessage naming what is accepted. The response comes
/// back finalized (framing headers set).
Plan plan_request(const Request& req, const std::optional<Fault>& standing_fault);

}  // namespace mock_backend
