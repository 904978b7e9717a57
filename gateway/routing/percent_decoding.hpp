#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gateway {

/// Percent-decodes a path segment or query component once. Answers nothing when an escape is
/// malformed (`%4`, `%zz`). `plus_is_space` is for query strings, where HTML forms and most
/// client libraries send a space as '+'.
std::optional<std::string> percent_decode(std::string_view encoded, bool plus_is_space);

}  // namespace gateway
