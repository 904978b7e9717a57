#pragma once

#include <string>
#include <string_view>

#include "http_types.hpp"

namespace mock_backend {

/// A response with the mock's minimal header set (Server, Content-Type) and the body. Framing
/// (Content-Length, keep-alive) is left to finalize(), which runs once the status is final.
Response make_response(http::status status, std::string_view content_type, std::string body);

/// Sets any status from 100 to 999, registered or not; an unregistered one gets the reason
/// "Mock Status" instead of Beast's "<unknown-status>".
void set_status(Response& res, unsigned code);

/// Sets the framing headers for `req`: Content-Length (or none, with no body, for statuses
/// that forbid one), keep-alive as the client asked, and no body bytes on a HEAD answer.
/// Done last because x-mock-status can change the status after the body was chosen.
void finalize(Response& res, const Request& req);

/// An ErrorMessage body ({"code","status","message","detailMsg"}), the error shape of the real
/// backends, as a complete response.
Response error_message_response(http::status status, std::string_view message,
                                std::string_view detail);

}  // namespace mock_backend
