// Raw bytes as an HTTP request: Beast's parser with the session's limits, then the head
// checks on whatever it accepts, then the body checks.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>

#include "project_config.hpp"
#include "core/error_message.hpp"
#include "pipeline/head_reader.hpp"
#include "pipeline/request_checks.hpp"

namespace http = boost::beast::http;


extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    parser.eager(false);
    boost::system::error_code ec;
    boost::asio::const_buffer input(data, size);
    const std::size_t used = parser.put(input, ec);
    if (ec || !parser.is_header_done()) return 0;

    std::string roles;
    const auto content_length = parser.content_length();
    const auto head = gateway::read_request_head(
        parser.get(), content_length ? std::optional<std::uint64_t>(*content_length) : std::nullopt,
        parser.chunked(), roles);
    const auto checked = gateway::check_head(project_config(), head);
    if (!checked.ok()) {
        (void)gateway::ErrorMessage::from(checked.error()).to_json();
        return 0;
    }
    parser.body_limit(checked->body_limit);
    parser.eager(true);
    input += used;
    parser.put(input, ec);
    if (!ec && parser.is_done()) (void)gateway::check_body(*checked->route, parser.get().body());
    return 0;
}
