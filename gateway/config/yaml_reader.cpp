#include "config/yaml_reader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "config/spelling.hpp"
#include "core/text.hpp"

namespace gateway {
namespace {

// A diagnostic is one line (editors and CI logs read it as one); a value quoted into it may
// hold line breaks (a quoted YAML scalar can span lines), so they are written as escapes.
std::string one_line(std::string message) {
    std::string out;
    out.reserve(message.size());
    for (const char c : message) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '\n') {
            out += "\\n";
        } else if (byte < 0x20 || byte == 0x7F) {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\x";
            out += kHex[byte >> 4];
            out += kHex[byte & 0xF];
        } else {
            out += c;
        }
    }
    return out;
}

bool ends_with(std::string_view text, std::string_view tail) {
    return text.size() >= tail.size() && text.substr(text.size() - tail.size()) == tail;
}

// Why an integer setting's text is not an integer, when the likely slip is recognisable.
std::string integer_hint(std::string_view text, std::string_view what) {
    const auto digits_end = std::find_if(text.begin(), text.end(), [](char c) {
        return !std::isdigit(static_cast<unsigned char>(c)) && c != '-';
    });
    const bool starts_with_number = digits_end != text.begin();
    const std::string_view rest(digits_end, text.end());
    if (starts_with_number && !rest.empty() &&
        std::all_of(rest.begin(), rest.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); })) {
        if (ends_with(what, "_ms")) return " (write a plain number of milliseconds, without a unit)";
        if (ends_with(what, "bytes")) {
            return " (write a plain number of bytes, without a unit: 1 MiB is 1048576)";
        }
        return " (write a plain number, without a unit)";
    }
    if (starts_with_number && rest.front() == '.') return " (a whole number is expected)";
    if (starts_with_number && (rest.find('_') != std::string_view::npos ||
                               rest.find(',') != std::string_view::npos)) {
        return " (write digits only, without separators)";
    }
    return {};
}

}  // namespace

std::string describe(const YAML::Node& node) {
    if (!node || node.IsNull()) return "nothing";
    if (node.IsSequence()) return "a list";
    if (node.IsMap()) return "a mapping";
    if (node.Scalar().empty()) return "an empty string";
    return "'" + node.Scalar() + "'";
}

YamlReader::YamlReader(std::string file, std::string_view text) : file_(std::move(file)) {
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        line_lengths_.push_back(end - start);
        start = end + 1;
    }
}

std::pair<int, int> YamlReader::clamp(int line, int column) const {
    // yaml-cpp places "missing" and end-of-stream problems after the last byte; an editor
    // jumping there lands nowhere, so such positions move to the end of the last line.
    if (line_lengths_.empty()) return {1, 1};
    line = std::max(line, 1);
    column = std::max(column, 1);
    if (static_cast<std::size_t>(line) > line_lengths_.size()) {
        line = static_cast<int>(line_lengths_.size());
        column = static_cast<int>(line_lengths_.back()) + 1;
    }
    const int last_column = static_cast<int>(line_lengths_[static_cast<std::size_t>(line - 1)]) + 1;
    return {line, std::min(column, last_column)};
}

void YamlReader::report_at(int line, int column, std::string message) {
    const auto [l, c] = clamp(line, column);
    diagnostics_.push_back({file_, l, c, one_line(std::move(message))});
}

void YamlReader::report(const YAML::Mark& mark, std::string message, int column_shift) {
    report_at(mark.line + 1, mark.column + 1 + column_shift, std::move(message));
}

void YamlReader::report(const YAML::Node& node, std::string message, int column_shift) {
    if (node.IsNull()) {
        for (const auto& [value, key_mark] : empty_values_) {
            if (value.is(node)) return report(key_mark, std::move(message));
        }
    }
    report(node.Mark(), std::move(message), column_shift);
}

void YamlReader::report_unplaced(std::string file, std::string message) {
    diagnostics_.push_back({std::move(file), 0, 0, one_line(std::move(message))});
}

void YamlReader::warn(const YAML::Node& node, std::string message) {
    const auto [line, column] = clamp(node.Mark().line + 1, node.Mark().column + 1);
    warnings_.push_back({file_, line, column, one_line(std::move(message))});
}

bool YamlReader::expect_map(const YAML::Node& node, std::string_view what,
                            std::span<const std::string_view> allowed) {
    if (!node.IsMap()) {
        report(node, std::string(what) + " must be a mapping of keys to values, got " + describe(node));
        return false;
    }
    std::set<std::string> seen;
    for (const auto& entry : node) {
        const auto key = entry.first.Scalar();
        if (entry.second.IsNull()) empty_values_.emplace_back(entry.second, entry.first.Mark());
        // yaml-cpp keeps the last of duplicated keys silently; an ops typo must not vanish.
        if (!seen.insert(key).second) {
            report(entry.first, "duplicate key '" + key + "' in " + std::string(what) +
                                    " (each key may appear once; delete one of them)");
        }
        if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
            std::string message = "unknown key '" + key + "' in " + std::string(what);
            if (const auto nearest = nearest_word(key, allowed)) {
                message.append("; did you mean '").append(*nearest).append("'?");
            }
            report(entry.first, message + " (expected one of: " + join(allowed) + ")");
        }
    }
    return true;
}

bool YamlReader::expect_sequence(const YAML::Node& node, std::string_view what) {
    if (node.IsSequence()) return true;
    std::string message = std::string(what) + " must be a list, got " + describe(node);
    if (node.IsScalar() && !node.Scalar().empty()) message += " (write [" + node.Scalar() + "])";
    report(node, std::move(message));
    return false;
}

std::optional<std::string> YamlReader::read_string(const YAML::Node& node, std::string_view what) {
    // A quoted empty string ("") is a string, just an empty one; anything else is no string.
    if (!node.IsScalar() || (node.Tag() != "!" && node.Scalar().empty())) {
        report(node, std::string(what) + " must be a non-empty string, got " + describe(node));
        return std::nullopt;
    }
    if (node.Scalar().empty()) {
        report(node, std::string(what) + " must not be empty");
        return std::nullopt;
    }
    return node.Scalar();
}

std::optional<std::int64_t> YamlReader::read_integer(const YAML::Node& node, std::string_view what,
                                                     std::int64_t min, std::int64_t max) {
    const std::string range = std::to_string(min) + " and " + std::to_string(max);
    if (!node.IsScalar() || node.Scalar().empty()) {
        report(node, std::string(what) + " must be an integer between " + range + ", got " +
                         describe(node));
        return std::nullopt;
    }
    const std::string& text = node.Scalar();
    // A quoted number ("10") is a string in YAML: refusing it keeps one spelling per setting.
    if (node.Tag() == "!") {
        report(node, std::string(what) + " must be an integer, got '" + text +
                         "' (quoted, so a string: write it without quotes)");
        return std::nullopt;
    }
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range && end == text.data() + text.size()) {
        report(node, std::string(what) + " must be between " + range + ", got " + text +
                         " (out of range)");
        return std::nullopt;
    }
    if (ec != std::errc() || end != text.data() + text.size()) {
        report(node, std::string(what) + " must be an integer, got '" + text + "'" +
                         integer_hint(text, what));
        return std::nullopt;
    }
    if (value < min || value > max) {
        report(node, std::string(what) + " must be between " + range + ", got " + text);
        return std::nullopt;
    }
    return value;
}

std::optional<bool> YamlReader::read_bool(const YAML::Node& node, std::string_view what) {
    if (node.IsScalar() && node.Tag() != "!") {
        if (node.Scalar() == "true") return true;
        if (node.Scalar() == "false") return false;
    }
    // YAML 1.1 spellings (yes, on, True) mean different things to different parsers: one
    // spelling keeps the file unambiguous.
    std::string message = std::string(what) + " must be true or false, got " + describe(node);
    if (node.IsScalar() && node.Tag() == "!") message += " (quoted, so a string: write it without quotes)";
    report(node, std::move(message));
    return std::nullopt;
}

std::optional<std::vector<std::string>> YamlReader::read_string_list(const YAML::Node& node,
                                                                     std::string_view what) {
    if (!expect_sequence(node, what)) return std::nullopt;
    if (node.size() == 0) {
        report(node, std::string(what) + " must not be empty");
        return std::nullopt;
    }
    std::vector<std::string> values;
    bool ok = true;
    for (const auto& item : node) {
        auto value = read_string(item, std::string(what) + " entry");
        if (!value) {
            ok = false;
            continue;
        }
        if (std::find(values.begin(), values.end(), *value) != values.end()) {
            report(item, "'" + *value + "' appears twice in " + std::string(what));
            ok = false;
        }
        values.push_back(std::move(*value));
    }
    return ok ? std::optional(std::move(values)) : std::nullopt;
}

void YamlReader::read_ms(const YAML::Node& map, const char* key, const std::string& what_prefix,
                         std::chrono::milliseconds& out) {
    if (const auto value = map[key]) {
        if (auto ms = read_integer(value, what_prefix + key, 1, 3'600'000)) {
            out = std::chrono::milliseconds(*ms);
        }
    }
}

void YamlReader::read_size(const YAML::Node& map, const char* key, const std::string& what_prefix,
                           std::int64_t min, std::int64_t max, std::size_t& out) {
    if (const auto value = map[key]) {
        if (auto number = read_integer(value, what_prefix + key, min, max)) {
            out = static_cast<std::size_t>(*number);
        }
    }
}

}  // namespace gateway
