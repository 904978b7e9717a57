#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mock_backend {

/// The path part of a request target (everything before '?').
std::string_view target_path(std::string_view target) noexcept;

/// The path split on '/', without the leading empty segment. Empty segments ("a//b", a
/// trailing '/') are kept so that such paths do not match any route by accident.
std::vector<std::string_view> split_path(std::string_view path);

/// The first value of query parameter `name`, percent- and '+'-decoded; nullopt if absent.
std::optional<std::string> query_param(std::string_view target, std::string_view name);

/// A decimal int64 path segment, or 0 when it is not one. The mock does not validate ids
/// (that is the gateway's job) but its bodies must still be well-formed JSON numbers.
std::int64_t id_or_zero(std::string_view segment) noexcept;

}  // namespace mock_backend
