#include "routing/path_template.hpp"

#include <algorithm>

namespace gateway {
namespace {

bool is_name_start(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_name_char(char c) noexcept { return is_name_start(c) || (c >= '0' && c <= '9'); }

// RFC 3986 pchar without '%': a template literal is written decoded-free on purpose, so the
// bytes ops write are the bytes a request must carry.
bool is_literal_char(char c) noexcept {
    if (is_name_char(c)) return true;
    switch (c) {
        case '-': case '.': case '~': case '!': case '$': case '&': case '\'': case '(':
        case ')': case '*': case '+': case ',': case ';': case '=': case ':': case '@':
            return true;
        default:
            return false;
    }
}

}  // namespace

std::variant<PathTemplate, PathTemplate::ParseError> PathTemplate::parse(std::string_view text) {
    if (text.empty() || text.front() != '/') {
        return ParseError{0, "path must start with '/'"};
    }
    PathTemplate result;
    result.text_ = std::string(text);
    std::size_t start = 1;
    while (true) {
        const std::size_t end = std::min(text.find('/', start), text.size());
        const std::string_view segment = text.substr(start, end - start);
        if (segment.empty()) {
            return ParseError{start, end == text.size() && start == text.size() && start > 1
                                         ? "path must not end with '/'"
                                         : "empty path segment ('//')"};
        }
        Segment parsed;
        if (segment.front() == '{') {
            if (segment.back() != '}') {
                return ParseError{start, "a parameter must be a whole segment: write '{name}' "
                                         "or '{name:type}' between two '/', got '" +
                                             std::string(segment) + "'"};
            }
            const std::string_view inner = segment.substr(1, segment.size() - 2);
            const std::size_t colon = inner.find(':');
            const std::string_view name = inner.substr(0, colon);
            if (name.empty() || !is_name_start(name.front()) ||
                !std::all_of(name.begin(), name.end(), is_name_char)) {
                return ParseError{start + 1, "invalid parameter name '" + std::string(name) +
                                                 "' (letters, digits and '_', not starting "
                                                 "with a digit)"};
            }
            parsed.is_param = true;
            parsed.text = std::string(name);
            if (colon != std::string_view::npos) {
                const std::string_view type = inner.substr(colon + 1);
                const auto kind = param_kind_from_name(type);
                if (!kind || is_array_kind(*kind)) {
                    return ParseError{start + 2 + colon,
                                      "unknown path parameter type '" + std::string(type) +
                                          "' (expected string, int32, int64, uuid or enum)"};
                }
                parsed.kind = *kind;
            }
            for (const auto& existing : result.segments_) {
                if (existing.is_param && existing.text == parsed.text) {
                    return ParseError{start + 1,
                                      "parameter '" + parsed.text + "' appears twice in the path"};
                }
            }
        } else {
            // `x{id}`: a parameter inside a literal cannot be matched (segments are matched
            // whole); say so rather than only that '{' is not a path character.
            if (const std::size_t brace = segment.find_first_of("{}"); brace != std::string_view::npos) {
                return ParseError{start + brace,
                                  "a parameter must be a whole segment: write '{name}' or "
                                  "'{name:type}' between two '/', got '" + std::string(segment) + "'"};
            }
            for (std::size_t i = 0; i < segment.size(); ++i) {
                if (!is_literal_char(segment[i])) {
                    return ParseError{start + i, std::string("character '") + segment[i] +
                                                     "' is not allowed in a path literal"};
                }
            }
            parsed.text = std::string(segment);
        }
        result.segments_.push_back(std::move(parsed));
        if (end == text.size()) break;
        start = end + 1;
    }
    return result;
}

std::vector<std::string> PathTemplate::param_names() const {
    std::vector<std::string> names;
    for (const auto& segment : segments_) {
        if (segment.is_param) names.push_back(segment.text);
    }
    return names;
}

std::string PathTemplate::shape() const {
    std::string out;
    for (const auto& segment : segments_) {
        out += '/';
        out += segment.is_param ? "{}" : segment.text;
    }
    return out;
}

std::string PathTemplate::expand(const std::vector<std::string_view>& raw_values_by_name,
                                 const std::vector<std::string>& names) const {
    std::string out;
    for (const auto& segment : segments_) {
        out += '/';
        if (!segment.is_param) {
            out += segment.text;
            continue;
        }
        const auto it = std::find(names.begin(), names.end(), segment.text);
        out += raw_values_by_name[static_cast<std::size_t>(it - names.begin())];
    }
    return out;
}

}  // namespace gateway
