#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace gateway {

/// The access log's writer: workers hand it whole lines, a thread of its own writes them.
///
/// A worker's cost per line is formatting it and one short, uncontended lock to append it to
/// the pending batch; the write(2) happens on the writer thread, at most every
/// `kFlushInterval` or when a batch fills, so a slow disk never stalls a request. If the
/// writer falls more than `kMaxPendingBytes` behind, new lines are dropped and counted rather
/// than letting memory grow without bound.
class AccessLog {
public:
    static constexpr std::chrono::milliseconds kFlushInterval{100};
    static constexpr std::size_t kBatchBytes = 64 * 1024;
    static constexpr std::size_t kMaxPendingBytes = 16 * 1024 * 1024;

    /// `destination` is a file path (opened for appending, created 0644 if missing) or "-"
    /// for standard output. Throws std::system_error when the file cannot be opened.
    explicit AccessLog(std::string destination);
    /// Writes every line still pending, then closes the file.
    ~AccessLog();
    AccessLog(const AccessLog&) = delete;
    AccessLog& operator=(const AccessLog&) = delete;

    /// Thread-safe. `lines` is one or more whole lines, each ending in '\n'.
    void write(std::string_view lines);
    /// Thread-safe: the lines pending so far go to the current file, later ones to the path
    /// opened afresh. For log rotation: rename the file, then SIGUSR1.
    void reopen();

    const std::string& destination() const noexcept { return destination_; }
    /// Lines given up: the writer was too far behind, or the file could not be written.
    std::uint64_t dropped_lines() const noexcept { return dropped_.load(std::memory_order_relaxed); }

private:
    void run_writer();
    void write_out(const std::string& batch);
    void open_file();

    std::string destination_;
    int fd_ = -1;
    bool owns_fd_ = false;
    bool write_failed_ = false;  // report a failing disk once, not per batch

    std::mutex mutex_;
    std::condition_variable wake_;
    std::string pending_;  // guarded by mutex_
    bool reopen_requested_ = false;  // guarded by mutex_
    bool stopping_ = false;          // guarded by mutex_
    std::atomic<std::uint64_t> dropped_{0};
    std::thread writer_;
};

}  // namespace gateway
