#pragma once

// Helpers for the hardening_*_test.cpp suites: the mock's request counter, configs with
// small limits, responses counted off a raw connection, and a look at the gateway's fds.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/http_client.hpp"
#include "support/process.hpp"

namespace test_support {

/// The mock-backend's request counter, GET /__mock/requests: every request it received except
/// those to /__mock/*. Throws std::runtime_error when the mock does not answer one.
long mock_request_count(std::uint16_t mock_port);

/// DELETE /__mock/requests: the counter back to 0. Throws when the mock does not answer 200.
void reset_mock_request_count(std::uint16_t mock_port);

/// The project's routes.yaml as text.
std::string project_routes_text();

/// The whole file at `path`; empty when it does not exist (yet).
std::string read_text_file(const std::string& path);

/// routes.yaml with its `limits:` block replaced by `limits:` followed by `lines` (YAML
/// lines indented by two spaces, each ending in a newline). Keys not given keep their
/// defaults. Throws when routes.yaml has no limits block.
std::string routes_yaml_with_limits(const std::string& lines);

/// `text` with `insertion` inserted right after the first occurrence of `anchor`. Throws when
/// the anchor is missing, so a changed routes.yaml fails the test loudly instead of silently
/// testing the defaults.
std::string insert_after(std::string text, std::string_view anchor, std::string_view insertion);

/// Every HTTP response in `bytes`, in order, as long as they parse one after the other (a
/// response without Content-Length and not chunked takes the rest of the bytes).
std::vector<HttpResponse> parse_responses(std::string_view bytes);

/// Open file descriptors of process `pid` (entries of /proc/PID/fd); nothing if unreadable.
std::optional<std::size_t> open_fd_count(pid_t pid);

/// Evaluates `condition` until it is true or `deadline` passes, with short pauses between
/// tries; answers its last value. For state that settles asynchronously (a counter, fds).
bool poll_until(const std::function<bool()>& condition, Clock::time_point deadline,
                std::chrono::milliseconds interval = std::chrono::milliseconds(10));

/// A plain client socket for tests that pace their bytes (slow clients). Unlike RawConnection,
/// whose stream closes the socket when a wait times out, a wait here that ends without news
/// leaves the connection open, so a test can send a byte, wait a little, and send the next.
class PacedConnection {
public:
    explicit PacedConnection(std::uint16_t port);
    ~PacedConnection();
    PacedConnection(const PacedConnection&) = delete;
    PacedConnection& operator=(const PacedConnection&) = delete;

    /// Writes all of `bytes` (blocking); false when the connection is closed or reset.
    bool send(std::string_view bytes);

    /// Reads whatever the server sends until it closes the connection (true) or `timeout`
    /// passed with the connection still open (false). What arrived is in received().
    bool wait_for_close(std::chrono::milliseconds timeout);

    /// Reads until received() holds `count` complete HTTP responses, the server closes, or
    /// `timeout` passes; true when the responses are there.
    bool wait_for_responses(std::size_t count, std::chrono::milliseconds timeout);

    const std::string& received() const noexcept { return received_; }
    /// The server closed (or reset) the connection.
    bool closed() const noexcept { return closed_; }
    /// Closes our side now (FIN).
    void close();

private:
    /// One wait for readability of at most `timeout`, then one read; false when nothing came.
    bool read_some(std::chrono::milliseconds timeout);

    int fd_ = -1;
    std::string received_;
    bool closed_ = false;
};

/// Milliseconds since `start`.
inline long long elapsed_ms(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

}  // namespace test_support
