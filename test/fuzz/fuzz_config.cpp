// Any bytes as routes.yaml: the loader must answer a Config or diagnostics, never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config_loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto result = gateway::load_config_text(text, "fuzz.yaml", TEST_SOURCE_DIR);
    // Exactly one of the two: a config, or at least one reason why not.
    if ((result.config == nullptr) == result.diagnostics.empty()) __builtin_trap();
    for (const auto& diagnostic : result.diagnostics) (void)diagnostic.to_string();
    return 0;
}
