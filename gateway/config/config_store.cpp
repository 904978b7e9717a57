#include "config/config_store.hpp"

namespace gateway {

LoadResult ConfigStore::reload() {
    // Loaded and checked in full before anything is swapped: a bad file changes nothing.
    LoadResult loaded = load_serving_config(path_, overrides_);
    std::lock_guard lock(mutex_);
    if (loaded.config) {
        current_ = loaded.config;
        ++reloads_;
    } else {
        ++failed_reloads_;
    }
    return loaded;
}

std::shared_ptr<const Config> ConfigStore::current() const {
    std::lock_guard lock(mutex_);
    return current_;
}

std::uint64_t ConfigStore::reloads() const {
    std::lock_guard lock(mutex_);
    return reloads_;
}

std::uint64_t ConfigStore::failed_reloads() const {
    std::lock_guard lock(mutex_);
    return failed_reloads_;
}

}  // namespace gateway
