#pragma once

#include <string_view>

#include "config/body_schema.hpp"
#include "core/result.hpp"

namespace gateway {

/// Checks a request body against a route's compiled schema in one streaming pass (RapidJSON's
/// reader feeding its SchemaValidator, no DOM). Refuses what a backend could read differently
/// from us: invalid UTF-8, trailing data, duplicated keys, absurd nesting. Errors say where
/// (JSON pointer), what was expected and what came: `body /active: expected boolean, got string`.
Status validate_body(const BodySchema& schema, std::string_view body);

/// Deepest nesting of arrays and objects accepted in a body.
inline constexpr int kMaxBodyDepth = 64;

}  // namespace gateway
