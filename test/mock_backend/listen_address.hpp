#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

namespace mock_backend {

/// Parses --listen: "HOST:PORT" with HOST an IPv4 address, "[IPv6]" or "localhost", and PORT
/// 0..65535 (0: the OS picks). nullopt when malformed. No name resolution: the mock only ever
/// listens on this machine's addresses and must start instantly.
std::optional<boost::asio::ip::tcp::endpoint> parse_listen_address(std::string_view text);

/// "127.0.0.1:8080" / "[::1]:8080": the form test harnesses parse from the startup line.
std::string format_endpoint(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace mock_backend
