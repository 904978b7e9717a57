#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/diagnostic.hpp"

namespace gateway {

/// Reads typed values out of a parsed routes.yaml and collects what is wrong with them.
/// Each `read_*` answers nothing on a problem (after reporting it), so one pass shows an
/// operator every problem; every diagnostic is one line at the token at fault, inside the file.
class YamlReader {
public:
    /// `text` is the file as read: diagnostics are kept inside it and about it.
    YamlReader(std::string file, std::string_view text);

    const std::string& file() const noexcept { return file_; }

    void report(const YAML::Mark& mark, std::string message, int column_shift = 0);
    /// At `node`; a value left empty (`name:`) is reported at its key, where the fault is seen.
    void report(const YAML::Node& node, std::string message, int column_shift = 0);
    /// At a 1-based position already known (YAML syntax errors); clamped into the file.
    void report_at(int line, int column, std::string message);
    /// No position (what comes from the command line, not from the file).
    void report_unplaced(std::string file, std::string message);
    void warn(const YAML::Node& node, std::string message);

    bool failed() const noexcept { return !diagnostics_.empty(); }
    std::vector<Diagnostic> take_diagnostics() { return std::move(diagnostics_); }
    std::vector<Diagnostic> take_warnings() { return std::move(warnings_); }

    /// Reports a node that is not a mapping (answering false: nothing to read), and each
    /// duplicated or unknown key (answering true: reading goes on; any report fails the load).
    /// An empty `allowed` accepts any key (names chosen by the operator: upstreams, params).
    bool expect_map(const YAML::Node& node, std::string_view what,
                    std::span<const std::string_view> allowed);
    bool expect_sequence(const YAML::Node& node, std::string_view what);

    std::optional<std::string> read_string(const YAML::Node& node, std::string_view what);
    std::optional<std::int64_t> read_integer(const YAML::Node& node, std::string_view what,
                                             std::int64_t min, std::int64_t max);
    std::optional<bool> read_bool(const YAML::Node& node, std::string_view what);
    std::optional<std::vector<std::string>> read_string_list(const YAML::Node& node,
                                                             std::string_view what);

    /// The optional setting `key` of `map`, a duration in milliseconds from 1 ms to an hour
    /// (every timeout in routes.yaml): `out` keeps its default when the key is absent or wrong.
    void read_ms(const YAML::Node& map, const char* key, const std::string& what_prefix,
                 std::chrono::milliseconds& out);
    /// The optional setting `key` of `map`, a count or a size in bytes within [min, max].
    void read_size(const YAML::Node& map, const char* key, const std::string& what_prefix,
                   std::int64_t min, std::int64_t max, std::size_t& out);

private:
    std::pair<int, int> clamp(int line, int column) const;

    std::string file_;
    std::vector<std::size_t> line_lengths_;  // of the text, to keep positions inside it
    std::vector<std::pair<YAML::Node, YAML::Mark>> empty_values_;  // value left empty -> its key
    std::vector<Diagnostic> diagnostics_;
    std::vector<Diagnostic> warnings_;
};

/// What a node holds, for "expected X, got Y": "a list", "a mapping", "nothing", "'text'".
std::string describe(const YAML::Node& node);

}  // namespace gateway
