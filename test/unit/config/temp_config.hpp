#pragma once

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

/// A throw-away directory holding a routes.yaml written by a test and a copy of the project's
/// schemas/, so configs can be written inline in the test that reads them.
class TempConfig {
public:
    TempConfig() {
        std::random_device random;
        dir_ = std::filesystem::temp_directory_path() /
               ("gateway-test-" + std::to_string(random()) + std::to_string(random()));
        std::filesystem::create_directories(dir_);
        std::filesystem::copy(std::filesystem::path(TEST_SOURCE_DIR) / "schemas", dir_ / "schemas");
    }
    ~TempConfig() {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    TempConfig(const TempConfig&) = delete;
    TempConfig& operator=(const TempConfig&) = delete;

    const std::filesystem::path& dir() const noexcept { return dir_; }

    /// Writes `contents` to `name` in the directory and answers its path.
    std::string write(const std::string& contents, const std::string& name = "routes.yaml") const {
        const auto path = dir_ / name;
        std::filesystem::create_directories(path.parent_path());
        std::ofstream(path) << contents;
        return path.string();
    }

private:
    std::filesystem::path dir_;
};
