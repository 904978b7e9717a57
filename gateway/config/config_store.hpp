#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "config/config_loader.hpp"

namespace gateway {

/// Where the serving config lives between reloads: the file and command-line overrides it
/// comes from, the snapshot in force, and how reloads went. Used by the control thread and the
/// admin endpoints, never on the request path (workers get snapshots pushed to them).
class ConfigStore {
public:
    ConfigStore(std::string path, ConfigOverrides overrides)
        : path_(std::move(path)), overrides_(std::move(overrides)) {}

    /// Loads the file again and, on success, publishes the new snapshot as current. On failure
    /// the current one stays and the answer carries the diagnostics.
    LoadResult reload();

    /// The two halves of reload(), for a caller that must hand the snapshot to its workers
    /// before it is reported as the one in force: load() checks the file in full (a failure is
    /// counted; nothing is swapped), publish() makes a loaded snapshot current.
    LoadResult load();
    void publish(std::shared_ptr<const Config> config);

    std::shared_ptr<const Config> current() const;
    std::uint64_t reloads() const;
    std::uint64_t failed_reloads() const;
    const std::string& path() const noexcept { return path_; }

private:
    const std::string path_;
    const ConfigOverrides overrides_;
    mutable std::mutex mutex_;
    std::shared_ptr<const Config> current_;
    std::uint64_t reloads_ = 0;
    std::uint64_t failed_reloads_ = 0;
};

}  // namespace gateway
