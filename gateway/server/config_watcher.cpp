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

namespace {

// Whether a batch of inotify events names the config file, or the ConfigMap's ..data symlink
// that points at its directory. Not a coroutine: inotify_event ends in a flexible array, which
// cannot live in a coroutine frame, and the bytes need not be aligned for it either.
bool concerns_config(const char* data, std::size_t size, const std::string& file_name) {
    for (std::size_t offset = 0; offset + sizeof(inotify_event) <= size;) {
        inotify_event event;
        std::memcpy(&event, data + offset, sizeof event);
        const char* name_start = data + offset + sizeof event;
        const std::size_t room = std::min<std::size_t>(event.len, size - offset - sizeof event);
        const std::string_view name(name_start, ::strnlen(name_start, room));
        if (name == file_name || name == "..data") return true;
        offset += sizeof event + event.len;
    }
    return false;
}

}  // namespace

ConfigWatcher::ConfigWatcher(asio::io_context& io, const std::string& config_path,
                             std::function<void()> on_change)
    : inotify_(io), settle_(io), on_change_(std::move(on_change)) {
    const std::filesystem::path path(config_path);
    file_name_ = path.filename().string();
    const std::string directory = path.has_parent_path() ? path.parent_path().string() : ".";
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0 || ::inotify_add_watch(fd, directory.c_str(),
                                      IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE |
                                          IN_ATTRIB) < 0) {
        std::cerr << "gateway: cannot watch " << directory
                  << " for config changes; reload with SIGHUP\n";
        if (fd >= 0) ::close(fd);
        return;
    }
    inotify_.assign(fd);
    asio::co_spawn(io, watch(), asio::detached);
}

ConfigWatcher::~ConfigWatcher() { cancel(); }

void ConfigWatcher::cancel() {
    boost::system::error_code ignored;
    settle_.cancel();
    inotify_.close(ignored);
}

asio::awaitable<void> ConfigWatcher::watch() {
    std::array<char, 16 * 1024> events;
    while (true) {
        boost::system::error_code ec;
        const std::size_t n = co_await inotify_.async_read_some(
            asio::buffer(events), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
        if (!concerns_config(events.data(), n, file_name_)) continue;
        settle_.expires_after(std::chrono::milliseconds(100));
        settle_.async_wait([this](const boost::system::error_code& timer_ec) {
            if (!timer_ec) on_change_();
        });
    }
}

}  // namespace gateway
