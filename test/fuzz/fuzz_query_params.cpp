// Query strings and parameter values through decoding and every parameter type.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "routing/param_type.hpp"
#include "routing/percent_decoding.hpp"
#include "routing/query_string.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    (void)gateway::percent_decode(input, false);
    std::string bad_pair;
    const auto params = gateway::parse_query(input, &bad_pair);
    if (!params) return 0;
    gateway::ParamType types[7];
    for (int k = 0; k < 7; ++k) types[k].kind = static_cast<gateway::ParamKind>(k);
    types[4].allowed_strings = {"unsubscribe", "cancel"};
    types[1].allowed_integers = {1, 2};
    types[2].min = -5;
    types[2].max = 1'000'000;
    std::vector<std::string> values;
    for (const auto& param : *params) values.push_back(param.value);
    for (const auto& type : types) {
        if (gateway::is_array_kind(type.kind)) {
            (void)type.check_array(values);
        } else {
            for (const auto& value : values) (void)type.check(value);
        }
        (void)type.describe();
    }
    return 0;
}
