#include "routing/route_table.hpp"

#include <algorithm>

namespace gateway {

struct RouteTable::Node {
    // Literal children sorted by text. A path segment is found by binary search, a few short
    // string compares at the usual fan-out of 1 to 10, cheaper than hashing the segment.
    std::vector<std::pair<std::string, std::unique_ptr<Node>>> literals;
    std::unique_ptr<Node> param;
    // A route ends here: its method and index. Few per node, so a vector beats a map.
    std::vector<std::pair<std::string, std::size_t>> methods;

    /// Where `text` is among the literals, or would be inserted.
    auto literal_position(std::string_view text) const {
        return std::lower_bound(literals.begin(), literals.end(), text,
                                [](const auto& literal, std::string_view wanted) {
                                    return std::string_view(literal.first) < wanted;
                                });
    }
    const Node* literal(std::string_view text) const {
        const auto it = literal_position(text);
        return it != literals.end() && it->first == text ? it->second.get() : nullptr;
    }
};

RouteTable::RouteTable() : root_(std::make_unique<Node>()) {}
RouteTable::~RouteTable() = default;
RouteTable::RouteTable(RouteTable&&) noexcept = default;
RouteTable& RouteTable::operator=(RouteTable&&) noexcept = default;

std::ptrdiff_t RouteTable::add(std::string_view method, const PathTemplate& path,
                               std::size_t route_index) {
    Node* node = root_.get();
    for (const auto& segment : path.segments()) {
        std::unique_ptr<Node>* child = nullptr;
        if (segment.is_param) {
            child = &node->param;
        } else {
            auto& literals = node->literals;
            const auto at = node->literal_position(segment.text);
            const auto it = at != literals.end() && at->first == segment.text
                                ? literals.begin() + (at - literals.cbegin())
                                : literals.emplace(at, segment.text, nullptr);  // keeps the order
            child = &it->second;
        }
        if (!*child) *child = std::make_unique<Node>();
        node = child->get();
    }
    for (const auto& [existing_method, existing_index] : node->methods) {
        if (existing_method == method) return static_cast<std::ptrdiff_t>(existing_index);
    }
    node->methods.emplace_back(method, route_index);
    return -1;
}

namespace {

struct Search {
    std::string_view method;
    boost::container::small_vector<std::string_view, 16> segments;
    PathValues values;
    std::vector<std::string> allowed;
};

}  // namespace

// Depth-first, literal before parameter. Answers the route index, or -1.
static std::ptrdiff_t search(const RouteTable::Node* node, std::size_t depth, Search& s);

RouteMatch RouteTable::match(std::string_view method, std::string_view path) const {
    RouteMatch result;
    if (path.empty() || path.front() != '/') return result;
    Search s;
    s.method = method;
    path.remove_prefix(1);
    while (true) {
        const std::size_t slash = path.find('/');
        s.segments.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    const std::ptrdiff_t found = search(root_.get(), 0, s);
    if (found >= 0) {
        result.kind = RouteMatch::Kind::found;
        result.route_index = static_cast<std::size_t>(found);
        result.path_values = std::move(s.values);
    } else if (!s.allowed.empty()) {
        result.kind = RouteMatch::Kind::method_not_allowed;
        std::sort(s.allowed.begin(), s.allowed.end());
        s.allowed.erase(std::unique(s.allowed.begin(), s.allowed.end()), s.allowed.end());
        result.allowed = std::move(s.allowed);
    }
    return result;
}

static std::ptrdiff_t search(const RouteTable::Node* node, std::size_t depth, Search& s) {
    if (depth == s.segments.size()) {
        for (const auto& [method, index] : node->methods) {
            if (method == s.method) return static_cast<std::ptrdiff_t>(index);
        }
        for (const auto& entry : node->methods) s.allowed.push_back(entry.first);
        return -1;
    }
    const std::string_view segment = s.segments[depth];
    if (const RouteTable::Node* literal = node->literal(segment)) {
        if (const auto found = search(literal, depth + 1, s); found >= 0) return found;
    }
    if (node->param && !segment.empty()) {
        s.values.push_back(segment);
        if (const auto found = search(node->param.get(), depth + 1, s); found >= 0) return found;
        s.values.pop_back();
    }
    return -1;
}

}  // namespace gateway
