// Raw bytes as an HTTP request: Beast's parser with the session's limits, then the framing
// checks (Host, Content-Length, Transfer-Encoding, target) and the head checks on whatever it
// accepts, then the body with the chunk-extension check attached, the trailer fields dropped
// and the body checks; an input that stops a chunked parse also goes through the overflow
// classification the session uses.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

#include "project_config.hpp"
#include "core/error_message.hpp"
#include "pipeline/chunked_framing.hpp"
#include "pipeline/framing_checks.hpp"
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
    const auto framing = gateway::check_framing(parser.get());
    if (!framing) return 0;

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
    gateway::ChunkExtensionCheck chunk_extensions;
    std::optional<gateway::HeadFields> head_fields;
    if (parser.chunked()) {
        chunk_extensions.attach(parser);
        head_fields.emplace(parser.get());
    }
    input += used;
    const std::size_t body_used = parser.put(input, ec);
    if (ec && parser.chunked()) {
        input += body_used;
        const std::string_view rest(static_cast<const char*>(input.data()), input.size());
        (void)gateway::chunked_overflow_error(rest, 16 * 1024);
        return 0;
    }
    if (!ec && parser.is_done()) {
        if (head_fields) {
            head_fields->drop_others(parser.get());
            // What is left is the checked head: one Host at most, nothing more to drop.
            if (parser.get().count(http::field::host) > 1) __builtin_trap();
            if (head_fields->drop_others(parser.get()) != 0) __builtin_trap();
        }
        (void)gateway::check_body(*checked->route, parser.get().body());
    }
    return 0;
}
