#pragma once

#include <optional>
#include <string_view>

#include "core/error_message.hpp"
#include "upstream/answer_status.hpp"

namespace gateway {

/// True when `body` is already the documented ErrorMessage: a JSON object with exactly the
/// members code (integer), status, message and detailMsg (strings).
bool is_error_message(std::string_view body);

/// Decides what the client sees of an upstream's answer. Nothing: pass it on unchanged (2xx,
/// 304, or an error that is already an ErrorMessage). Otherwise the ErrorMessage to send in its
/// place, with the same status and a detail naming the upstream and its status. The body is
/// quoted only when `quote_body` (the upstream's expose_error_body): a legacy backend's error
/// page can hold stack traces, host names or credentials. For the same reason the standard
/// reason phrase stands in for the upstream's own unless the body is quoted.
std::optional<ErrorMessage> normalise_upstream_answer(std::string_view upstream, int status,
                                                      std::string_view reason,
                                                      std::string_view content_type,
                                                      std::string_view body, bool quote_body);

/// How many bytes of an upstream's error body its normalised detail quotes (expose_error_body).
inline constexpr std::size_t kUpstreamExcerptBytes = 200;

/// How many bytes of an upstream's error body the access log keeps (upstream_error_body).
inline constexpr std::size_t kUpstreamLoggedBytes = 1024;

}  // namespace gateway
