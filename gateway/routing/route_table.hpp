#pragma once

#include <boost/container/small_vector.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "routing/path_template.hpp"

namespace gateway {

/// The raw (still percent-encoded) values of a matched route's path parameters, in path order.
using PathValues = boost::container::small_vector<std::string_view, 8>;

/// What matching a method and path gives.
struct RouteMatch {
    enum class Kind { found, path_not_found, method_not_allowed };
    Kind kind = Kind::path_not_found;
    std::size_t route_index = 0;         // found: index of the route as added
    PathValues path_values;              // found: views into the matched path
    std::vector<std::string> allowed;    // method_not_allowed: the path's methods, sorted
};

/// Method + path lookup over a segment trie. Cost grows with the path's depth and only with the
/// logarithm of a node's fan-out, not with the number of routes: one binary search of a node's
/// sorted literal children per segment, a literal segment tried before a parameter,
/// backtracking to the parameter only when the literal branch leads nowhere.
/// Built once per config; immutable afterwards and safe to share between threads.
class RouteTable {
public:
    RouteTable();
    ~RouteTable();
    RouteTable(RouteTable&&) noexcept;
    RouteTable& operator=(RouteTable&&) noexcept;

    /// Adds a route. Answers the index of an earlier route the new one conflicts with (same
    /// method and same template shape: it would match exactly the same requests), or -1.
    std::ptrdiff_t add(std::string_view method, const PathTemplate& path, std::size_t route_index);

    /// `path` is the request target's path (no query), starting with '/'.
    RouteMatch match(std::string_view method, std::string_view path) const;

    struct Node;  // opaque trie node, defined in route_table.cpp

private:
    std::unique_ptr<Node> root_;
};

}  // namespace gateway
