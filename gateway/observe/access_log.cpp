#include "observe/access_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <system_error>
#include <utility>

namespace gateway {

AccessLog::AccessLog(std::string destination) : destination_(std::move(destination)) {
    if (destination_ == "-") {
        fd_ = STDOUT_FILENO;
    } else {
        open_file();
        if (fd_ < 0) throw std::system_error(errno, std::generic_category(), destination_);
    }
    writer_ = std::thread([this] { run_writer(); });
}

AccessLog::~AccessLog() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    writer_.join();
    if (owns_fd_) ::close(fd_);
}

void AccessLog::write(std::string_view lines) {
    bool wake_writer = false;
    {
        std::lock_guard lock(mutex_);
        if (pending_.size() + lines.size() > kMaxPendingBytes) {
            std::size_t count = 0;
            for (const char c : lines) count += c == '\n';
            dropped_.fetch_add(count, std::memory_order_relaxed);
            return;
        }
        // Wake the writer for the first line of a batch (it then gathers for a while) and for
        // a full batch; every line in between costs only the append.
        wake_writer = pending_.empty() || pending_.size() + lines.size() >= kBatchBytes;
        pending_.append(lines);
    }
    if (wake_writer) wake_.notify_one();
}

void AccessLog::reopen() {
    {
        std::lock_guard lock(mutex_);
        reopen_requested_ = true;
    }
    wake_.notify_one();
}

void AccessLog::open_file() {
    fd_ = ::open(destination_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    owns_fd_ = fd_ >= 0;
}

void AccessLog::run_writer() {
    std::string batch;
    std::unique_lock lock(mutex_);
    while (true) {
        wake_.wait(lock, [&] { return stopping_ || reopen_requested_ || !pending_.empty(); });
        // Let a batch gather: one write(2) per interval, not one per line.
        wake_.wait_for(lock, kFlushInterval, [&] {
            return stopping_ || reopen_requested_ || pending_.size() >= kBatchBytes;
        });
        batch.swap(pending_);
        const bool reopen = std::exchange(reopen_requested_, false);
        const bool stop = stopping_;
        lock.unlock();

        write_out(batch);
        batch.clear();
        if (reopen && destination_ != "-") {
            const int old_fd = fd_;
            open_file();
            if (fd_ < 0) {
                std::cerr << "gateway: cannot reopen the access log " << destination_ << ": "
                          << std::generic_category().message(errno)
                          << "; still writing to the file opened before\n";
                fd_ = old_fd;
                owns_fd_ = true;
            } else {
                ::close(old_fd);
                write_failed_ = false;
            }
        }
        lock.lock();
        if (stop && pending_.empty()) return;
    }
}

void AccessLog::write_out(const std::string& batch) {
    std::size_t written = 0;
    while (written < batch.size()) {
        const ssize_t n = ::write(fd_, batch.data() + written, batch.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (!write_failed_) {
                std::cerr << "gateway: cannot write the access log " << destination_ << ": "
                          << std::generic_category().message(errno) << "; lines are lost until it works again\n";
            }
            write_failed_ = true;
            std::uint64_t lost = 0;
            for (std::size_t i = written; i < batch.size(); ++i) lost += batch[i] == '\n';
            dropped_.fetch_add(lost, std::memory_order_relaxed);
            return;
        }
        written += static_cast<std::size_t>(n);
    }
    write_failed_ = false;
}

}  // namespace gateway
