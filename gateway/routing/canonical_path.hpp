#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace gateway {

/// The one spelling of a request path that the gateway matches, checks and forwards, so that
/// it and the backend can never disagree on which resource was asked for. Each segment is
/// percent-decoded once and re-encoded canonically: unreserved characters, sub-delims, ':' and
/// '@' plain, everything else as %XX in upper case. Refused (invalid_path): malformed escapes,
/// dot segments ("." and "..", however encoded), and segments that decode to '/' or to
/// control characters.
Result<std::string> canonicalize_path(std::string_view raw_path);

}  // namespace gateway
