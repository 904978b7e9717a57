#include "routing/query_string.hpp"

#include "routing/percent_decoding.hpp"

namespace gateway {

std::optional<std::vector<QueryParam>> parse_query(std::string_view query, std::string* bad_pair) {
    std::vector<QueryParam> params;
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
        if (pair.empty()) continue;
        const std::size_t eq = pair.find('=');
        auto name = percent_decode(pair.substr(0, eq), true);
        auto value = eq == std::string_view::npos ? std::optional<std::string>(std::string())
                                                  : percent_decode(pair.substr(eq + 1), true);
        if (!name || !value) {
            if (bad_pair) *bad_pair = std::string(pair);
            return std::nullopt;
        }
        params.push_back({std::move(*name), std::move(*value)});
    }
    return params;
}

}  // namespace gateway
