#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace test_support {
namespace {

// The test process talks to sockets its peers may close at any time: a write to one must come
// back as EPIPE, not kill the test run.
const bool kSigpipeIgnored = [] {
    ::signal(SIGPIPE, SIG_IGN);
    return true;
}();

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

int remaining_ms(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return 0;
    return static_cast<int>(std::min<long long>(left.count() + 1, 1'000'000));
}

}  // namespace

ChildProcess::ChildProcess(std::string binary, std::vector<std::string> args,
                           Stderr stderr_mode) {
    (void)kSigpipeIgnored;
    int out_pipe[2];
    int err_pipe[2] = {-1, -1};
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    if (stderr_mode == Stderr::capture && ::pipe2(err_pipe, O_CLOEXEC) != 0) {
        ::close(out_pipe[0]);
        ::close(out_pipe[1]);
        throw std::runtime_error("pipe2 failed");
    }

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
    if (stderr_mode == Stderr::capture) {
        posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
    } else if (stderr_mode == Stderr::discard) {
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    }
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    // Sockets the test holds open (Asio does not always set CLOEXEC) must not leak into the
    // child, or a connection the test closes would stay open in the gateway's eyes.
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);

    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    sigset_t empty;
    sigemptyset(&empty);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setsigmask(&attributes, &empty);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

    std::vector<char*> argv;
    argv.push_back(binary.data());
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);

    const int rc = ::posix_spawn(&pid_, binary.c_str(), &actions, &attributes, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    ::close(out_pipe[1]);
    if (err_pipe[1] >= 0) ::close(err_pipe[1]);
    out_fd_ = out_pipe[0];
    err_fd_ = err_pipe[0];
    if (rc != 0) {
        pid_ = -1;
        close_fd(out_fd_);
        close_fd(err_fd_);
        throw std::runtime_error("posix_spawn " + binary + ": " + std::strerror(rc));
    }
}

ChildProcess::~ChildProcess() {
    stop();
    close_fd(out_fd_);
    close_fd(err_fd_);
}

bool ChildProcess::pump(Clock::time_point deadline) {
    pollfd fds[2];
    int count = 0;
    if (out_fd_ >= 0) fds[count++] = {out_fd_, POLLIN, 0};
    if (err_fd_ >= 0) fds[count++] = {err_fd_, POLLIN, 0};
    if (count == 0) return false;
    const int ready = ::poll(fds, static_cast<nfds_t>(count), remaining_ms(deadline));
    if (ready <= 0) return true;  // deadline (or EINTR): the caller checks the clock
    for (int i = 0; i < count; ++i) {
        if (fds[i].revents == 0) continue;
        char chunk[4096];
        const ssize_t n = ::read(fds[i].fd, chunk, sizeof chunk);
        const bool is_out = fds[i].fd == out_fd_;
        if (n > 0) {
            (is_out ? out_ : err_).append(chunk, static_cast<std::size_t>(n));
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
            close_fd(is_out ? out_fd_ : err_fd_);
        }
    }
    return out_fd_ >= 0 || err_fd_ >= 0;
}

std::optional<std::string> ChildProcess::wait_for_line(std::string_view prefix,
                                                       Clock::time_point deadline) {
    while (true) {
        // Look at every complete line not yet looked at.
        while (true) {
            const std::size_t newline = out_.find('\n', scanned_);
            if (newline == std::string::npos) break;
            std::string line = out_.substr(scanned_, newline - scanned_);
            scanned_ = newline + 1;
            if (line.compare(0, prefix.size(), prefix) == 0) return line;
        }
        if (Clock::now() >= deadline) return std::nullopt;
        if (out_fd_ < 0) return std::nullopt;  // stdout closed: the line will never come
        pump(deadline);
    }
}

bool ChildProcess::reap(bool block_until_exit) {
    if (exit_code_) return true;
    if (pid_ <= 0) return true;
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, block_until_exit ? 0 : WNOHANG);
    if (r == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return true;
    }
    if (r < 0 && errno == ECHILD) {
        exit_code_ = -1;
        return true;
    }
    return false;
}

bool ChildProcess::running() { return !reap(false); }

std::optional<int> ChildProcess::wait_for_exit(Clock::time_point deadline) {
    while (true) {
        if (reap(false)) {
            // Whatever the child wrote before exiting is still in the pipes.
            while (pump(Clock::now() + std::chrono::milliseconds(200))) {
            }
            return exit_code_;
        }
        if (Clock::now() >= deadline) return std::nullopt;
        if (out_fd_ >= 0 || err_fd_ >= 0) {
            // Wakes up on output or on the child's exit (which closes its pipe ends); the cap
            // keeps an exit noticed when the pipes are held open by nobody else.
            pump(std::min(deadline, Clock::now() + std::chrono::milliseconds(20)));
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
}

void ChildProcess::stop(std::chrono::milliseconds grace) {
    if (pid_ <= 0 || reap(false)) return;
    ::kill(pid_, SIGTERM);
    if (wait_for_exit(Clock::now() + grace)) return;
    ::kill(pid_, SIGKILL);
    reap(true);
}

RunResult run_to_completion(const std::string& binary, const std::vector<std::string>& args,
                            std::chrono::milliseconds timeout) {
    ChildProcess child(binary, args, ChildProcess::Stderr::capture);
    RunResult result;
    const auto code = child.wait_for_exit(Clock::now() + timeout);
    if (!code) child.stop(std::chrono::milliseconds(500));
    result.exit_code = code.value_or(-1);
    result.out = child.stdout_text();
    result.err = child.stderr_text();
    return result;
}

}  // namespace test_support
