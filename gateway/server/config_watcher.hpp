#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <string>

namespace gateway {

/// Calls `on_change` when the config file changes on disk. Watches the file's directory with
/// inotify, because the file itself is usually replaced rather than written: editors write a
/// new file and rename it over the old one, and Kubernetes ConfigMap mounts swap a `..data`
/// symlink. Bursts of events (an editor's write, chmod, rename) give one call, 100 ms after
/// the last of them.
class ConfigWatcher {
public:
    ConfigWatcher(boost::asio::io_context& io, const std::string& config_path,
                  std::function<void()> on_change);
    ~ConfigWatcher();
    ConfigWatcher(const ConfigWatcher&) = delete;
    ConfigWatcher& operator=(const ConfigWatcher&) = delete;

    /// Stops watching (the control loop ends once nothing else is pending).
    void cancel();

private:
    boost::asio::awaitable<void> watch();

    boost::asio::posix::stream_descriptor inotify_;
    boost::asio::steady_timer settle_;
    std::string file_name_;
    std::function<void()> on_change_;
};

}  // namespace gateway
