#include "server/config_watcher.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <sys/inotify.h>

#include <array>
#include <filesystem>
#include <iostream>

namespace gateway {

namespace asio = boost::asio;

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
    alignas(inotify_event) std::array<char, 16 * 1024> events;
    while (true) {
        boost::system::error_code ec;
        const std::size_t n = co_await inotify_.async_read_some(
            asio::buffer(events), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
        bool relevant = false;
        for (std::size_t offset = 0; offset < n;) {
            const auto* event = reinterpret_cast<const inotify_event*>(events.data() + offset);
            const std::string name = event->len ? event->name : "";
            // The file itself, or the ConfigMap's ..data symlink that points at its directory.
            if (name == file_name_ || name == "..data") relevant = true;
            offset += sizeof(inotify_event) + event->len;
        }
        if (!relevant) continue;
        settle_.expires_after(std::chrono::milliseconds(100));
        settle_.async_wait([this](const boost::system::error_code& timer_ec) {
            if (!timer_ec) on_change_();
        });
    }
}

}  // namespace gateway
