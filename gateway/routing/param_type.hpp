#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gateway {

enum class ParamKind { string, int32, int64, uuid, enumeration, int32_array, int64_array };

/// The type names accepted in routes.yaml, in the order of ParamKind.
std::string_view param_kind_name(ParamKind kind) noexcept;
std::optional<ParamKind> param_kind_from_name(std::string_view name) noexcept;
bool is_integer_kind(ParamKind kind) noexcept;
bool is_array_kind(ParamKind kind) noexcept;

/// A typed parameter with its constraints, compiled once from routes.yaml. `check` is what
/// runs per request: it answers nothing when the (already percent-decoded) value is valid,
/// or the sentence that tells the client what was expected and what came.
struct ParamType {
    ParamKind kind = ParamKind::string;
    std::optional<std::int64_t> min;            // integer kinds
    std::optional<std::int64_t> max;            // integer kinds
    std::vector<std::int64_t> allowed_integers; // integer kinds; empty = any in range
    std::vector<std::string> allowed_strings;   // enumeration: the values, in config order
    std::optional<std::size_t> max_length;      // string

    /// Checks one scalar value (for array kinds: one element).
    std::optional<std::string> check(std::string_view value) const;

    /// Checks the values of an array parameter, each given as `1`, `1,2` or `[1,2]`.
    std::optional<std::string> check_array(const std::vector<std::string>& occurrences) const;

    /// "int64", "one of unsubscribe, cancel", "int32, one of 1, 2", "int64 array".
    std::string describe() const;
};

}  // namespace gateway
