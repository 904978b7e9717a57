#include "server/config_watcher.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <sys/inotify.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <iostream>

namespace gateway {

namespace asio = boost::asio;

ConfigWatcher::ConfigWatcher(asio::io_context& io, const std::string& config_path,
                             std::function<void()> on_change)
    : inotify_(io), settle_(io), on_change_(std::move(on_change)) {
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
        std::cerr << "gateway: cannot watch for config changes; reload with SIGHUP\n";
        return;
    }
    inotify_.assign(fd);
    if (!add(config_path)) {
        inotify_.close();
        return;
    }
    asio::co_spawn(io, watch(), asio::detached);
}

ConfigWatcher::~ConfigWatcher() { cancel(); }

bool ConfigWatcher::add(const std::string& file) {
    const std::filesystem::path path(file);
    const std::string directory = path.has_parent_path() ? path.parent_path().string() : ".";
    // The same directory twice gives the same descriptor: its names are merged.
    const int watch = ::inotify_add_watch(inotify_.native_handle(), directory.c_str(),
                                          IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE |
                                              IN_ATTRIB);
    if (watch < 0) {
        std::cerr << "gateway: cannot watch " << directory << " for changes of "
                  << path.filename().string() << "; reload with SIGHUP\n";
        return false;
    }
    names_by_watch_[watch].insert(path.filename().string());
    return true;
}

void ConfigWatcher::follow(const std::vector<std::string>& files) {
    if (!inotify_.is_open()) return;
    for (const auto& file : files) add(file);
}

void ConfigWatcher::cancel() {
    boost::system::error_code ignored;
    settle_.cancel();
    inotify_.close(ignored);
}

// Whether a batch of inotify events names a followed file, or the `..data` symlink that a
// ConfigMap or Secret mount points its files through. Not a coroutine: inotify_event ends in a
// flexible array, which cannot live in a coroutine frame, and the bytes need not be aligned
// for it either.
bool ConfigWatcher::concerns_us(const char* data, std::size_t size) const {
    for (std::size_t offset = 0; offset + sizeof(inotify_event) <= size;) {
        inotify_event event;
        std::memcpy(&event, data + offset, sizeof event);
        const char* name_start = data + offset + sizeof event;
        const std::size_t room = std::min<std::size_t>(event.len, size - offset - sizeof event);
        const std::string name(name_start, ::strnlen(name_start, room));
        const auto names = names_by_watch_.find(event.wd);
        if (names != names_by_watch_.end() && (name == "..data" || names->second.count(name))) {
            return true;
        }
        offset += sizeof event + event.len;
    }
    return false;
}

asio::awaitable<void> ConfigWatcher::watch() {
    std::array<char, 16 * 1024> events;
    while (true) {
        boost::system::error_code ec;
        const std::size_t n = co_await inotify_.async_read_some(
            asio::buffer(events), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
        if (!concerns_us(events.data(), n)) continue;
        settle_.expires_after(std::chrono::milliseconds(100));
        settle_.async_wait([this](const boost::system::error_code& timer_ec) {
            if (!timer_ec) on_change_();
        });
    }
}

}  // namespace gateway
