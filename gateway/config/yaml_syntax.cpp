#include "config/yaml_syntax.hpp"

#include <string>
#include <vector>

namespace gateway {
namespace {

/// A quote or a flow bracket still open, where it opened, and the indentation of the block
/// node that owns it: YAML requires the continuation lines of a quoted value or a [list] /
/// {map} to be indented deeper than that, so a line at or left of it means it was never closed.
struct Opener {
    char c;
    int line;    // 1-based
    int column;  // 1-based
    std::size_t owner_indent;
};

struct Finding {
    int line;
    int column;
    std::string message;
};

char closer_of(char opener) { return opener == '[' ? ']' : '}'; }

std::string what_opens(char c) {
    switch (c) {
        case '"': return "the double quote";
        case '\'': return "the single quote";
        case '[': return "the '[' of this list";
        default: return "the '{' of this mapping";
    }
}

std::string unclosed(const Opener& open, int stopped_at_line) {
    const std::string closing = open.c == '"' || open.c == '\'' ? std::string(1, open.c)
                                                                : std::string(1, closer_of(open.c));
    std::string message = "YAML syntax error: " + what_opens(open.c) + " opened here is not closed";
    message += stopped_at_line > 0 ? " before line " + std::to_string(stopped_at_line) +
                                         ", which starts the next key"
                                   : std::string(" by the end of the file");
    return message + " (expected '" + closing + "' on this line; add it or remove the opener)";
}

bool blank_or_comment(std::string_view line, std::size_t indent) {
    return indent >= line.size() || line[indent] == '#' || line[indent] == '\r';
}

// A lexer for just enough YAML to pair quotes and brackets: comments, plain scalars (where
// quotes and brackets are literal characters), quoted scalars, flow collections and block
// scalars (whose lines are skipped).
std::optional<Finding> scan_openers(std::string_view text) {
    std::optional<Opener> quote;
    std::vector<Opener> flows;
    constexpr std::size_t kNone = std::string_view::npos;
    std::size_t block_scalar_indent = kNone;  // of a | or > scalar whose lines are skipped
    int line_number = 0;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        const std::string_view line = text.substr(start, end - start);
        ++line_number;
        start = end + 1;
        std::size_t indent = 0;
        while (indent < line.size() && line[indent] == ' ') ++indent;
        const bool blank = blank_or_comment(line, indent) && !quote;
        if (block_scalar_indent != kNone) {
            if (indent >= line.size() || indent > block_scalar_indent) {
                if (end == text.size()) break;
                continue;
            }
            block_scalar_indent = kNone;
        }
        if (!blank && indent < line.size()) {
            const Opener* open = quote ? &*quote : flows.empty() ? nullptr : &flows.back();
            const std::size_t owner = quote ? quote->owner_indent
                                            : flows.empty() ? 0 : flows.front().owner_indent;
            if (open && indent <= owner) return Finding{open->line, open->column, unclosed(*open, line_number)};
        }
        std::size_t owner_indent = indent;  // of the block node a value on this line belongs to
        bool token_start = true;
        for (std::size_t i = quote ? 0 : indent; i < line.size(); ++i) {
            const char c = line[i];
            const char next = i + 1 < line.size() ? line[i + 1] : '\n';
            const int column = static_cast<int>(i) + 1;
            if (quote) {
                if (quote->c == '\'' && c == '\'') {
                    if (next == '\'') ++i;  // '' is an escaped single quote
                    else quote.reset();
                } else if (quote->c == '"' && c == '\\') {
                    ++i;
                } else if (quote->c == '"' && c == '"') {
                    quote.reset();
                }
                if (!quote) token_start = false;
                continue;
            }
            if (c == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) break;
            if (c == ' ' || c == '\t' || c == '\r') continue;
            if (flows.empty()) {
                if (token_start) {
                    if ((c == '-' || c == '?') && (next == ' ' || next == '\n')) continue;
                    if (c == '"' || c == '\'') {
                        quote = Opener{c, line_number, column, owner_indent};
                        continue;
                    }
                    if (c == '[' || c == '{') {
                        flows.push_back({c, line_number, column, owner_indent});
                        continue;
                    }
                    if (c == '|' || c == '>') {
                        block_scalar_indent = owner_indent;
                        break;
                    }
                    owner_indent = i;  // a plain scalar, maybe a key: its value is owned by it
                    token_start = false;
                } else if (c == ':' && (next == ' ' || next == '\n' || next == '\r')) {
                    token_start = true;
                }
                continue;
            }
            if (token_start && (c == '"' || c == '\'')) {
                quote = Opener{c, line_number, column, flows.front().owner_indent};
                continue;
            }
            if (c == '[' || c == '{') {
                flows.push_back({c, line_number, column, flows.front().owner_indent});
                token_start = true;
            } else if (c == ']' || c == '}') {
                if (closer_of(flows.back().c) != c) {
                    return Finding{line_number, column,
                                   "YAML syntax error: '" + std::string(1, c) + "' here does not "
                                   "match the '" + std::string(1, flows.back().c) + "' opened at " +
                                   std::to_string(flows.back().line) + ":" +
                                   std::to_string(flows.back().column) + " (expected '" +
                                   std::string(1, closer_of(flows.back().c)) + "')"};
                }
                flows.pop_back();
                token_start = false;
            } else if (c == ',' || (c == ':' && (next == ' ' || next == '\n' || next == ','))) {
                token_start = true;
            } else {
                token_start = false;
            }
        }
        if (end == text.size()) break;
    }
    if (quote) return Finding{quote->line, quote->column, unclosed(*quote, 0)};
    if (!flows.empty()) return Finding{flows.back().line, flows.back().column, unclosed(flows.back(), 0)};
    return std::nullopt;
}

// yaml-cpp's own words are terse ("illegal map value"); where the usual cause is known, say it.
std::string explain(const std::string& message) {
    if (message == YAML::ErrorMsg::TAB_IN_INDENTATION) {
        return "a tab in the indentation (YAML indents with spaces only: replace the tab with spaces)";
    }
    if (message == YAML::ErrorMsg::MAP_VALUE) {
        return "a ':' where no key can start (illegal map value): check this line and the one "
               "above for a key without ': ' (a space must follow the colon) or an indentation "
               "that differs from its siblings";
    }
    if (message == YAML::ErrorMsg::END_OF_MAP || message == YAML::ErrorMsg::END_OF_SEQ) {
        return message + ": this line's indentation does not line up with the keys or '- ' "
                         "entries above it";
    }
    return message;
}

// yaml-cpp notices a key written without ': ' ("method PATCH", "method:PATCH") only at the
// next line's colon; the line above is the one to fix. Answers a finding there, if it is that.
std::optional<Finding> key_without_colon(std::string_view text, int error_line) {
    std::vector<std::string_view> lines;
    for (std::size_t start = 0; start <= text.size();) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    for (int n = error_line - 1; n >= 1 && static_cast<std::size_t>(n) <= lines.size(); --n) {
        std::string_view line = lines[static_cast<std::size_t>(n - 1)];
        std::size_t at = line.find_first_not_of(' ');
        if (at == std::string_view::npos || line[at] == '#') continue;
        while (line.substr(at, 2) == "- ") at = line.find_first_not_of(' ', at + 2);
        if (at == std::string_view::npos) return std::nullopt;
        std::string_view content = line.substr(at);
        content = content.substr(0, content.find(" #"));
        while (!content.empty() && (content.back() == ' ' || content.back() == '\r')) content.remove_suffix(1);
        if (content.find(": ") != std::string_view::npos || content.back() == ':' ||
            content.front() == '"' || content.front() == '\'' || content.front() == '[' ||
            content.front() == '{') {
            return std::nullopt;
        }
        const int column = static_cast<int>(at) + 1;
        const std::size_t colon = content.find(':');
        if (colon != std::string_view::npos) {
            return Finding{n, column, "YAML syntax error: '" + std::string(content) +
                                          "' is no 'key: value': a space must follow the ':' (" +
                                          std::string(content.substr(0, colon + 1)) + " " +
                                          std::string(content.substr(colon + 1)) + ")"};
        }
        const std::size_t space = content.find(' ');
        if (space != std::string_view::npos) {
            return Finding{n, column, "YAML syntax error: '" + std::string(content) +
                                          "' is no 'key: value': the ':' after the key is missing (" +
                                          std::string(content.substr(0, space)) + ":" +
                                          std::string(content.substr(space)) + ")"};
        }
        return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace

std::optional<YAML::Node> parse_yaml(std::string_view text, YamlReader& reader) {
    if (const auto finding = scan_openers(text)) {
        reader.report_at(finding->line, finding->column, finding->message);
        return std::nullopt;
    }
    try {
        return YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
        if (e.msg == YAML::ErrorMsg::MAP_VALUE) {
            if (const auto finding = key_without_colon(text, e.mark.line + 1)) {
                reader.report_at(finding->line, finding->column, finding->message);
                return std::nullopt;
            }
        }
        // A message can span lines (some carry the text they choke on): one line it is.
        reader.report(e.mark, "YAML syntax error: " + explain(e.msg));
        return std::nullopt;
    }
}

}  // namespace gateway
