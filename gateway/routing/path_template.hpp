#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "routing/param_type.hpp"

namespace gateway {

/// A parsed route path such as `/v2/orgs/{orgId}/subscriptions/{subscriptionId:int64}/blocks`.
/// Each segment is a literal or a parameter; a parameter fills a whole segment.
class PathTemplate {
public:
    struct Segment {
        bool is_param = false;
        std::string text;                    // literal text, or the parameter's name
        ParamKind kind = ParamKind::string;  // parameters only
    };

    struct ParseError {
        std::size_t offset;  // byte offset in the template text, for file:line:col diagnostics
        std::string message;
    };

    /// Parses `text`; a template is unforgiving: empty segments, a parameter that does not
    /// fill its segment, a duplicated parameter name or an unknown type are errors.
    static std::variant<PathTemplate, ParseError> parse(std::string_view text);

    const std::string& text() const noexcept { return text_; }
    const std::vector<Segment>& segments() const noexcept { return segments_; }
    /// Names of the parameters, in path order.
    std::vector<std::string> param_names() const;

    /// The template with each parameter name removed (`/a/{}/b`): two templates with the same
    /// shape match exactly the same paths.
    std::string shape() const;

    /// Fills the parameters from `values` (raw, still percent-encoded, in path order), as used
    /// for path rewrites.
    std::string expand(const std::vector<std::string_view>& raw_values_by_name,
                       const std::vector<std::string>& names) const;

private:
    std::string text_;
    std::vector<Segment> segments_;
};

}  // namespace gateway
