#pragma once

#include <string>

#include "http_types.hpp"

namespace mock_backend {

/// What the mock received, as JSON:
///   {"method":"GET","target":"/v2/...?...","headers":[["Name","value"],...],"body":"..."}
/// Headers keep their received order and spelling: integration tests use this to prove what
/// the gateway forwarded (hop-by-hop headers dropped, X-Forwarded-For, body bytes).
std::string echo_json(const Request& req);

}  // namespace mock_backend
