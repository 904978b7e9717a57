#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace test_support {

using Clock = std::chrono::steady_clock;

/// Deadline `ms` milliseconds from now.
inline Clock::time_point deadline_in(std::chrono::milliseconds ms) { return Clock::now() + ms; }

/// A child process started with posix_spawn, stdout (and optionally stderr) on pipes.
/// The destructor stops it: SIGTERM, a bounded wait, then SIGKILL, so a failing test never
/// leaves a gateway behind. Every wait takes a deadline; nothing sleeps for readiness.
class ChildProcess {
public:
    enum class Stderr { inherit, capture, discard };

    ChildProcess(std::string binary, std::vector<std::string> args,
                 Stderr stderr_mode = Stderr::inherit);
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const noexcept { return pid_; }

    /// Reads stdout until a line starting with `prefix` arrives; that line without its newline.
    /// Nothing when stdout closed (the child exited) or the deadline passed first.
    std::optional<std::string> wait_for_line(std::string_view prefix, Clock::time_point deadline);

    /// Waits for the child to exit, draining its pipes meanwhile. The exit code (128 + signal
    /// number when killed by a signal), or nothing when the deadline passed first.
    std::optional<int> wait_for_exit(Clock::time_point deadline);

    /// Everything read from stdout / stderr so far (stderr only in Stderr::capture mode).
    const std::string& stdout_text() const noexcept { return out_; }
    const std::string& stderr_text() const noexcept { return err_; }

    bool running();

    /// SIGTERM, wait up to `grace`, then SIGKILL. Idempotent.
    void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000));

private:
    /// One round of reading whichever pipes are readable, waiting at most until `deadline`.
    /// False when there is nothing left to read (both pipes closed).
    bool pump(Clock::time_point deadline);
    bool reap(bool block_until_exit);

    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    std::string out_;
    std::string err_;
    std::size_t scanned_ = 0;  // stdout bytes already split into lines by wait_for_line
    std::optional<int> exit_code_;
};

/// The result of running a command to completion.
struct RunResult {
    int exit_code = -1;      // -1: it did not finish before the deadline (and was killed)
    std::string out;
    std::string err;
};

/// Runs `binary args...` with both outputs captured, for command-line checks.
RunResult run_to_completion(const std::string& binary, const std::vector<std::string>& args,
                            std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

}  // namespace test_support
