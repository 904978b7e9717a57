#pragma once

#include <string>

#include "config/config_loader.hpp"

/// The project's routes.yaml, loaded once per fuzzer process.
inline const gateway::Config& project_config() {
    static const auto loaded = gateway::load_config(std::string(TEST_SOURCE_DIR) + "/routes.yaml");
    if (!loaded.config) __builtin_trap();
    return *loaded.config;
}
