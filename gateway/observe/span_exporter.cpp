#include "observe/span_exporter.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <iostream>

#include "core/text.hpp"

namespace gateway {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr auto kBatchInterval = std::chrono::seconds(1);
constexpr auto kRequestTimeout = std::chrono::seconds(5);
constexpr milliseconds kFirstBackoff{1000};
constexpr milliseconds kMaxBackoff{30000};
constexpr int kTries = 5;

/// Milliseconds left until `deadline`, for poll (at least 0).
int poll_ms(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, 60'000));
}

/// A socket closed when it goes out of scope.
struct Descriptor {
    int fd = -1;
    ~Descriptor() {
        if (fd >= 0) ::close(fd);
    }
};

/// Waits for `events` on `fd` until `deadline`, or until `cut_off` (a drain's end, which
/// drain() may set while a post is under way), looking at it every 50 ms.
bool wait_for(int fd, short events, Clock::time_point deadline, const std::atomic<std::int64_t>& cut_off) {
    pollfd watched{fd, events, 0};
    while (true) {
        const Clock::time_point cut{Clock::duration(cut_off.load(std::memory_order_acquire))};
        const Clock::time_point until = std::min(deadline, cut);
        const int slice = std::min(poll_ms(until), 50);
        const int ready = ::poll(&watched, 1, slice);
        if (ready > 0) return true;
        if (ready < 0 && errno != EINTR) return false;
        if (Clock::now() >= until) return false;
    }
}

/// The collector's address as a sockaddr (numeric, resolved when the config loaded).
bool make_address(const Endpoint& endpoint, sockaddr_storage& storage, socklen_t& length) {
    const std::string& host = endpoint.address.empty() ? endpoint.host : endpoint.address;
    std::memset(&storage, 0, sizeof storage);
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(endpoint.port);
        length = sizeof(sockaddr_in);
        return true;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(endpoint.port);
        length = sizeof(sockaddr_in6);
        return true;
    }
    return false;
}

/// The value of header `name` (case-insensitive) in a response head, or empty.
std::string_view header_value(std::string_view head, std::string_view name) {
    std::size_t at = head.find("\r\n");
    while (at != std::string_view::npos && at + 2 < head.size()) {
        const std::size_t start = at + 2;
        const std::size_t end = head.find("\r\n", start);
        const std::string_view line = head.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        const auto colon = line.find(':');
        if (colon != std::string_view::npos && iequals(line.substr(0, colon), name)) {
            return trim(line.substr(colon + 1));
        }
        at = end;
    }
    return {};
}

}  // namespace

SpanExporter::SpanExporter(std::string version) : version_(std::move(version)) {
    thread_ = std::thread([this] { run(); });
}

SpanExporter::~SpanExporter() { drain(Clock::now()); }

void SpanExporter::apply(std::shared_ptr<const TracingConfig> tracing) {
    std::lock_guard lock(mutex_);
    if (!tracing) {
        dropped_.fetch_add(queue_.size(), std::memory_order_relaxed);
        queue_.clear();
    }
    tracing_ = std::move(tracing);
}

bool SpanExporter::submit(std::vector<Span>&& spans) {
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        if (!tracing_ || stopping_ || queue_.size() + spans.size() > tracing_->max_queue_spans) {
            dropped_.fetch_add(spans.size(), std::memory_order_relaxed);
            return false;
        }
        for (auto& span : spans) queue_.push_back(std::move(span));
        wake = queue_.size() >= kBatch;
    }
    if (wake) wake_.notify_one();
    return true;
}

void SpanExporter::drain(Clock::time_point deadline) {
    {
        std::lock_guard lock(mutex_);
        if (!thread_.joinable()) return;
        stopping_ = true;
        drain_by_ = deadline;
    }
    // A post under way gives up at the deadline too, however long its own timeout.
    cut_off_.store(deadline.time_since_epoch().count(), std::memory_order_release);
    wake_.notify_one();
    thread_.join();
}

void SpanExporter::log_problem(const std::string& problem) {
    // At most a line every 10 s: a dead collector must not flood the log either.
    const auto now = Clock::now();
    if (now - last_log_ < std::chrono::seconds(10) && last_log_ != Clock::time_point{}) return;
    last_log_ = now;
    std::cerr << "gateway: tracing: " << problem << "\n";
}

void SpanExporter::run() {
    std::vector<Span> batch;
    int tries = 0;
    milliseconds backoff = kFirstBackoff;
    Clock::time_point retry_at{};
    while (true) {
        std::shared_ptr<const TracingConfig> tracing;
        bool stopping = false;
        Clock::time_point drain_by;
        {
            std::unique_lock lock(mutex_);
            const auto until = batch.empty() ? Clock::now() + kBatchInterval : retry_at;
            wake_.wait_until(lock, until, [&] {
                return stopping_ || (batch.empty() && queue_.size() >= kBatch);
            });
            stopping = stopping_;
            drain_by = drain_by_;
            tracing = tracing_;
            if (batch.empty()) {
                const std::size_t take = std::min(kBatch, queue_.size());
                for (std::size_t i = 0; i < take; ++i) {
                    batch.push_back(std::move(queue_.front()));
                    queue_.pop_front();
                }
                tries = 0;
            }
            if (stopping && (batch.empty() || Clock::now() >= drain_by)) {
                dropped_.fetch_add(batch.size() + queue_.size(), std::memory_order_relaxed);
                queue_.clear();
                return;
            }
        }
        if (batch.empty()) continue;
        if (!tracing) {
            dropped_.fetch_add(batch.size(), std::memory_order_relaxed);
            batch.clear();
            continue;
        }
        if (!stopping && Clock::now() < retry_at) continue;
        const std::string body = otlp_json(tracing->service_name, version_, batch);
        const auto deadline = stopping ? std::min(drain_by, Clock::now() + kRequestTimeout)
                                       : Clock::now() + kRequestTimeout;
        const Outcome outcome = post(*tracing, body, deadline);
        ++tries;
        if (outcome.sent == Sent::ok) {
            exported_.fetch_add(batch.size(), std::memory_order_relaxed);
            batch.clear();
            backoff = kFirstBackoff;
            continue;
        }
        log_problem(outcome.problem);
        if (outcome.sent == Sent::rejected || tries >= kTries || stopping) {
            failed_.fetch_add(1, std::memory_order_relaxed);
            dropped_.fetch_add(batch.size(), std::memory_order_relaxed);
            batch.clear();
            continue;
        }
        const milliseconds wait = outcome.retry_after.count() > 0
                                      ? std::min(outcome.retry_after, kMaxBackoff)
                                      : backoff;
        backoff = std::min(backoff * 2, kMaxBackoff);
        retry_at = Clock::now() + wait;
    }
}

SpanExporter::Outcome SpanExporter::post(const TracingConfig& tracing, const std::string& body,
                                         Clock::time_point deadline) {
    const std::string where = "OTLP collector " + tracing.collector.to_string();
    sockaddr_storage address{};
    socklen_t length = 0;
    if (!make_address(tracing.collector, address, length)) {
        return {Sent::retry, {}, where + ": no numeric address"};
    }
    Descriptor socket_fd{::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
    if (socket_fd.fd < 0) return {Sent::retry, {}, where + ": socket: " + std::strerror(errno)};
    const int one = 1;
    ::setsockopt(socket_fd.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(socket_fd.fd, reinterpret_cast<sockaddr*>(&address), length) != 0 && errno != EINPROGRESS) {
        return {Sent::retry, {}, where + ": " + std::strerror(errno)};
    }
    if (!wait_for(socket_fd.fd, POLLOUT, deadline, cut_off_)) return {Sent::retry, {}, where + ": connect timed out"};
    int error = 0;
    socklen_t size = sizeof error;
    ::getsockopt(socket_fd.fd, SOL_SOCKET, SO_ERROR, &error, &size);
    if (error != 0) return {Sent::retry, {}, where + ": " + std::strerror(error)};

    std::string request = "POST " + tracing.path + " HTTP/1.1\r\nHost: " + tracing.collector.to_string() +
                          "\r\nContent-Type: application/json\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    request += body;
    std::size_t sent = 0;
    while (sent < request.size()) {
        const ssize_t n = ::send(socket_fd.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_for(socket_fd.fd, POLLOUT, deadline, cut_off_)) return {Sent::retry, {}, where + ": sending timed out"};
            continue;
        }
        return {Sent::retry, {}, where + ": send: " + std::strerror(errno)};
    }
    // Only the status line and the head matter; the body is read to its end or cut off.
    std::string response;
    char chunk[4096];
    while (response.find("\r\n\r\n") == std::string::npos) {
        if (response.size() > 64 * 1024) return {Sent::retry, {}, where + ": a response head over 64 KiB"};
        const ssize_t n = ::recv(socket_fd.fd, chunk, sizeof chunk, 0);
        if (n > 0) {
            response.append(chunk, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_for(socket_fd.fd, POLLIN, deadline, cut_off_)) return {Sent::retry, {}, where + ": no answer within 5 s"};
            continue;
        }
        return {Sent::retry, {}, where + ": closed before answering"};
    }
    const std::string_view head(response.data(), response.find("\r\n\r\n"));
    unsigned status = 0;
    if (head.size() >= 12 && head.starts_with("HTTP/1.")) {
        std::from_chars(head.data() + 9, head.data() + 12, status);
    }
    if (status >= 200 && status < 300) return {Sent::ok, {}, {}};
    Outcome outcome{Sent::rejected, {}, where + " answered " + std::to_string(status)};
    if (status == 429 || status == 502 || status == 503 || status == 504) {
        outcome.sent = Sent::retry;
        const std::string_view retry_after = header_value(head, "Retry-After");
        unsigned seconds = 0;
        if (!retry_after.empty() &&
            std::from_chars(retry_after.data(), retry_after.data() + retry_after.size(), seconds).ec == std::errc()) {
            outcome.retry_after = milliseconds(static_cast<long long>(seconds) * 1000);
        }
    }
    return outcome;
}

}  // namespace gateway
