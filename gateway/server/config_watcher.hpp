#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace gateway {

/// Calls `on_change` when the config file, or a file it names that is followed (certificates
/// and keys), changes on disk. Watches each file's directory with inotify, because files are
/// usually replaced rather than written: editors write a new file and rename it over the old
/// one, and Kubernetes ConfigMap and Secret mounts swap a `..data` symlink. Bursts of events
/// (an editor's write, chmod, rename; a Secret's several files) give one call, 100 ms after the
/// last of them.
class ConfigWatcher {
public:
    ConfigWatcher(boost::asio::io_context& io, const std::string& config_path,
                  std::function<void()> on_change);
    ~ConfigWatcher();
    ConfigWatcher(const ConfigWatcher&) = delete;
    ConfigWatcher& operator=(const ConfigWatcher&) = delete;

    /// Also watches `files` (from now on, next to what is watched already).
    void follow(const std::vector<std::string>& files);
    /// Stops watching (the control loop ends once nothing else is pending).
    void cancel();

private:
    boost::asio::awaitable<void> watch();
    bool add(const std::string& file);
    bool concerns_us(const char* data, std::size_t size) const;

    boost::asio::posix::stream_descriptor inotify_;
    boost::asio::steady_timer settle_;
    /// The file names followed in each watched directory, by watch descriptor.
    std::map<int, std::set<std::string>> names_by_watch_;
    std::function<void()> on_change_;
};

}  // namespace gateway
