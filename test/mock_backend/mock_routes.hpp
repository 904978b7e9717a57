#pragma once

#include "http_types.hpp"

namespace mock_backend {

/// The documented answer of the fake selfCareSocket and penalties backends for `req`: the
/// route's status and body, 404 ErrorMessage for an unknown path, 405 ErrorMessage (with Allow)
/// for a known path and a method it does not take. HEAD is answered as GET.
///
/// Pure: depends only on the request line, so tests and hooks can reason about it. Framing
/// headers are not set here; see finalize().
Response answer_route(const Request& req);

}  // namespace mock_backend
