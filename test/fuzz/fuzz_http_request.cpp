// Raw bytes as an HTTP request, through the functions the session itself calls: the raw-head
// scan (scan_head), the head parse with the session's limits (parse_head), every head stage
// (admit: framing, match, auth, params, media), then the body with the chunk-extension check
// attached, the trailer fields dropped, and the body stages; an input that stops a chunked
// parse also goes through the overflow classification the body read uses.
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "project_config.hpp"
#include "core/error_message.hpp"
#include "pipeline/chunked_framing.hpp"
#include "pipeline/head_admission.hpp"
#include "pipeline/stages.hpp"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const gateway::Config& config = project_config();
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const gateway::HeadScan scan = gateway::scan_head(bytes, config.limits);
    if (scan.outcome == gateway::HeadScan::Outcome::refused) {
        (void)gateway::ErrorMessage::from(*scan.refusal).to_json();
        return 0;
    }
    if (scan.outcome != gateway::HeadScan::Outcome::complete) return 0;
    if (scan.size > bytes.size()) __builtin_trap();

    gateway::RequestParser parser;
    if (auto parsed = gateway::parse_head(parser, bytes.substr(0, scan.size), config.limits);
        !parsed) {
        (void)gateway::ErrorMessage::from(parsed.error()).to_json();
        return 0;
    }
    gateway::Exchange exchange(config, &parser.get());
    if (const auto content_length = parser.content_length()) exchange.content_length = *content_length;
    exchange.chunked = parser.chunked();
    const auto checked = gateway::admit(exchange);
    if (!checked.ok()) {
        (void)gateway::ErrorMessage::from(checked.error()).to_json();
        return 0;
    }
    if (exchange.route != checked->route) __builtin_trap();

    parser.body_limit(checked->body_limit);
    parser.eager(true);
    gateway::ChunkExtensionCheck chunk_extensions;
    std::optional<gateway::HeadFields> head_fields;
    if (parser.chunked()) {
        chunk_extensions.attach(parser);
        head_fields.emplace(parser.get());
    }
    boost::asio::const_buffer input(data + scan.size, size - scan.size);
    boost::system::error_code ec;
    const std::size_t body_used = parser.is_done() ? 0 : parser.put(input, ec);
    if (ec && parser.chunked()) {
        input += body_used;
        const std::string_view rest(static_cast<const char*>(input.data()), input.size());
        (void)gateway::chunked_overflow_error(rest, config.limits.max_header_bytes);
        return 0;
    }
    if (!ec && parser.is_done()) {
        if (head_fields) {
            head_fields->drop_others(parser.get());
            // What is left is the checked head: one Host at most, nothing more to drop.
            if (parser.get().count(http::field::host) > 1) __builtin_trap();
            if (head_fields->drop_others(parser.get()) != 0) __builtin_trap();
        }
        exchange.body = parser.get().body();
        (void)gateway::run_stages(gateway::Phase::body, exchange);
    }
    return 0;
}
