#include "support/hardening.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <rapidjson/document.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "support/gateway_fixture.hpp"

namespace test_support {

namespace http = boost::beast::http;

long mock_request_count(std::uint16_t mock_port) {
    HttpClient client(mock_port, std::chrono::milliseconds(2000));
    const auto response = client.send("GET", "/__mock/requests");
    if (response.status != 200) {
        throw std::runtime_error("GET /__mock/requests: " + response.describe());
    }
    rapidjson::Document document;
    document.Parse(response.body.data(), response.body.size());
    if (document.HasParseError() || !document.IsObject() || !document.HasMember("requests") ||
        !document["requests"].IsInt64()) {
        throw std::runtime_error("GET /__mock/requests: not {\"requests\": N}: " + response.body);
    }
    return static_cast<long>(document["requests"].GetInt64());
}

void reset_mock_request_count(std::uint16_t mock_port) {
    HttpClient client(mock_port, std::chrono::milliseconds(2000));
    const auto response = client.send("DELETE", "/__mock/requests");
    if (response.status != 200) {
        throw std::runtime_error("DELETE /__mock/requests: " + response.describe());
    }
}

std::string read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string project_routes_text() {
    std::string text = read_text_file(project_routes_yaml());
    if (text.empty()) throw std::runtime_error("cannot read " + project_routes_yaml());
    return text;
}

std::string routes_yaml_with_limits(const std::string& lines) {
    std::string config = project_routes_text();
    const std::string key = "\nlimits:\n";
    const auto start = config.find(key);
    if (start == std::string::npos) throw std::runtime_error("routes.yaml has no limits: block");
    // The block runs until the first line that is not indented (a blank line or the next key).
    std::size_t end = start + key.size();
    while (end < config.size() && config[end] == ' ') {
        const auto newline = config.find('\n', end);
        end = newline == std::string::npos ? config.size() : newline + 1;
    }
    return config.replace(start + 1, end - (start + 1), "limits:\n" + lines);
}

std::string insert_after(std::string text, std::string_view anchor, std::string_view insertion) {
    const auto at = text.find(anchor);
    if (at == std::string::npos) {
        throw std::runtime_error("anchor not found in config: " + std::string(anchor));
    }
    text.insert(at + anchor.size(), insertion);
    return text;
}

std::vector<HttpResponse> parse_responses(std::string_view bytes) {
    std::vector<HttpResponse> responses;
    while (!bytes.empty()) {
        http::response_parser<http::string_body> parser;
        parser.eager(true);
        parser.body_limit(64u * 1024u * 1024u);
        boost::system::error_code ec;
        std::size_t offset = 0;
        while (offset < bytes.size() && !parser.is_done()) {
            const std::size_t used = parser.put(
                boost::asio::buffer(bytes.data() + offset, bytes.size() - offset), ec);
            if (ec == http::error::need_more) break;
            if (ec) return responses;
            offset += used;
            if (used == 0) break;
        }
        if (!parser.is_done()) {
            parser.put_eof(ec);
            if (ec || !parser.is_done()) return responses;
            offset = bytes.size();
        }
        // Re-parse the message on its own with the existing helper, which fills HttpResponse.
        auto one = parse_response(bytes.substr(0, offset));
        if (!one) return responses;
        responses.push_back(std::move(*one));
        bytes.remove_prefix(offset);
    }
    return responses;
}

std::optional<std::size_t> open_fd_count(pid_t pid) {
    std::error_code ec;
    std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec);
    if (ec) return std::nullopt;
    std::size_t count = 0;
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
        if (ec) return std::nullopt;
        ++count;
    }
    return count;
}

PacedConnection::PacedConnection(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // one byte, one segment
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        const int error = errno;
        ::close(fd_);
        fd_ = -1;
        throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": " +
                                 std::strerror(error));
    }
}

PacedConnection::~PacedConnection() { close(); }

void PacedConnection::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

bool PacedConnection::send(std::string_view bytes) {
    while (!bytes.empty()) {
        if (fd_ < 0) return false;
        const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

bool PacedConnection::read_some(std::chrono::milliseconds timeout) {
    if (fd_ < 0 || closed_) return false;
    pollfd entry{fd_, POLLIN, 0};
    const int ready = ::poll(&entry, 1, static_cast<int>(std::max<long long>(0, timeout.count())));
    if (ready <= 0) return false;
    char chunk[8192];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) return true;
    if (n <= 0) {
        closed_ = true;  // EOF, or a reset: the server is gone either way
        return true;
    }
    received_.append(chunk, static_cast<std::size_t>(n));
    return true;
}

bool PacedConnection::wait_for_close(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!closed_ && fd_ >= 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) break;
        read_some(left);
    }
    return closed_;
}

bool PacedConnection::wait_for_responses(std::size_t count, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
        if (parse_responses(received_).size() >= count) return true;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (closed_ || fd_ < 0 || left.count() <= 0) return false;
        read_some(left);
    }
}

bool poll_until(const std::function<bool()>& condition, Clock::time_point deadline,
                std::chrono::milliseconds interval) {
    while (true) {
        if (condition()) return true;
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(interval);
    }
}

}  // namespace test_support
