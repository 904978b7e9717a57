#include "config/config_store.hpp"

namespace gateway {

LoadResult ConfigStore::reload() {
    LoadResult loaded = load();
    if (loaded.config) publish(loaded.config);
    return loaded;
}

LoadResult ConfigStore::load() {
    // Loaded and checked in full before anything is swapped: a bad file changes nothing.
    LoadResult loaded = load_serving_config(path_, overrides_);
    if (!loaded.config) {
        std::lock_guard lock(mutex_);
        ++failed_reloads_;
    }
    return loaded;
}

void ConfigStore::publish(std::shared_ptr<const Config> config) {
    std::lock_guard lock(mutex_);
    current_ = std::move(config);
    ++reloads_;
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
