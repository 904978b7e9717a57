#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gateway {

/// One decoded `name=value` pair of a query string, in the order it came.
struct QueryParam {
    std::string name;
    std::string value;
};

/// Splits a query string (without the '?') on '&' and percent-decodes names and values once.
/// A pair without '=' has an empty value; empty pairs (`a=1&&b=2`) are skipped. Answers
/// nothing when an escape is malformed, with the offending pair in `bad_pair`.
std::optional<std::vector<QueryParam>> parse_query(std::string_view query, std::string* bad_pair);

}  // namespace gateway
