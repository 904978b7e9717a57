#include "listen_address.hpp"

#include <charconv>
#include <cstdint>

namespace mock_backend {

namespace ip = boost::asio::ip;

std::optional<ip::tcp::endpoint> parse_listen_address(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view host = text.substr(0, colon);
    const std::string_view port_text = text.substr(colon + 1);

    std::uint16_t port = 0;
    const auto* end = port_text.data() + port_text.size();
    const auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
    if (port_text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;

    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    if (host == "localhost") host = "127.0.0.1";

    boost::system::error_code address_ec;
    const auto address = ip::make_address(std::string{host}, address_ec);
    if (address_ec) return std::nullopt;
    return ip::tcp::endpoint{address, port};
}

std::string format_endpoint(const ip::tcp::endpoint& endpoint) {
    const std::string address = endpoint.address().to_string();
    const std::string port = std::to_string(endpoint.port());
    return endpoint.address().is_v6() ? "[" + address + "]:" + port : address + ":" + port;
}

}  // namespace mock_backend
