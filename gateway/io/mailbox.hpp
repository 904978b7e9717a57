#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/basic_stream_descriptor.hpp>

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "io/executor.hpp"

namespace gateway {

/// How other threads hand work to an io_context that runs with no locks of its own.
///
/// A worker's io_context is created with BOOST_ASIO_CONCURRENCY_HINT_UNSAFE: its scheduler and
/// reactor skip their mutexes, which a proxied request otherwise takes about twenty times
/// (callgrind: 3.4% of a GET's instructions, and each lock is an atomic read-modify-write). Such
/// a context may only be touched from the thread that runs it, so asio::post from elsewhere is
/// out. Instead a task goes into this mailbox's own queue (a mutex, taken only on these rare
/// calls: reloads, metric scrapes, shutdown) and an eventfd wakes the context's thread, which
/// runs the tasks.
///
/// The standing read on the eventfd is a doorbell, not work: it does not keep run() from
/// returning once everything else is done (what a drain waits for).
class Mailbox {
public:
    /// Creates the eventfd; tasks posted from now on run once open() has been called.
    explicit Mailbox(boost::asio::io_context& io);
    Mailbox(const Mailbox&) = delete;
    Mailbox& operator=(const Mailbox&) = delete;

    /// Starts taking tasks. Call on the context's thread, after something else has given it
    /// work (a context with nothing but the doorbell to do would stop at once).
    void open();

    /// Thread-safe. `task` runs on the context's thread soon, or never if the context has stopped
    /// running for good.
    void post(std::function<void()> task);

private:
    void ring_wait();
    void run_tasks();

    Executor executor_;
    boost::asio::posix::basic_stream_descriptor<Executor> doorbell_;
    std::uint64_t rings_ = 0;  // what the eventfd read answers: how many posts since the last
    std::mutex mutex_;
    std::vector<std::function<void()>> tasks_;  // guarded by mutex_
};

}  // namespace gateway
