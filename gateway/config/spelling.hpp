#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace gateway {

/// The candidate an operator most likely meant by `word` ("metod" -> "method"), or nothing
/// when no candidate is close enough to be a believable typo. Case-insensitive, counting a
/// swap of two neighbouring letters as one edit, since those are the usual slips.
std::optional<std::string_view> nearest_word(std::string_view word,
                                             std::span<const std::string_view> candidates);

}  // namespace gateway
