#include "server/session.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <limits>

#include "core/text.hpp"

namespace gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

bool is_disconnect(const boost::system::error_code& ec) {
    return ec == http::error::end_of_stream || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == beast::error::timeout || ec == asio::error::operation_aborted;
}

Error framing_error(const boost::system::error_code& ec) {
    if (ec == http::error::header_limit) {
        return Error{Errc::header_too_large, "the request header block is over the limit"};
    }
    return Error{Errc::malformed_request, "cannot parse the request: " + ec.message()};
}

bool expects_continue(const http::request_header<>& header) {
    const auto it = header.find(http::field::expect);
    return it != header.end() && iequals(it->value(), "100-continue");
}

}  // namespace

asio::awaitable<void> run_session(asio::ip::tcp::socket socket, SessionContext& context) {
    boost::system::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    const std::string client_address = ec ? std::string("unknown") : remote.address().to_string();
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;

    while (true) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(context.limits.header_limit));
        // The route decides the body limit once the head is checked; until then Beast must
        // not refuse a large Content-Length itself (our 413 names the limit and the route).
        // Not boost::none: Beast 1.74 compares Content-Length against the optional itself,
        // and every number is greater than an empty optional.
        parser.body_limit(std::numeric_limits<std::uint64_t>::max());

        stream.expires_after(context.limits.header_timeout);
        co_await http::async_read_header(stream, buffer, parser,
                                         asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            if (is_disconnect(ec)) break;
            auto response = render_error(framing_error(ec), 11, context.request_ids.generate());
            response.keep_alive(false);
            stream.expires_after(context.limits.write_timeout);
            co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
            break;
        }

        http::request<http::string_body>& header = parser.get();
        const unsigned version = header.version();
        bool keep_alive = header.keep_alive();
        const std::string request_id = context.request_ids.ensure(header);
        // A request keeps the config snapshot it started with, whatever happens meanwhile.
        const std::shared_ptr<const Config> config = context.config;

        ClientResponse response;
        const auto content_length = parser.content_length();
        auto admitted = context.pipeline.admit(
            *config, header,
            content_length ? std::optional<std::uint64_t>(*content_length) : std::nullopt,
            parser.chunked());
        if (!admitted) {
            response = render_error(admitted.error(), version, request_id);
            // The body was never read, so the connection's byte stream is out of step.
            if (!parser.is_done()) keep_alive = false;
        } else {
            bool have_response = false;
            if (!parser.is_done()) {
                parser.body_limit(admitted->body_limit);
                if (expects_continue(parser.get())) {
                    http::response<http::empty_body> go_on{http::status::continue_, version};
                    stream.expires_after(context.limits.write_timeout);
                    co_await http::async_write(stream, go_on,
                                               asio::redirect_error(asio::use_awaitable, ec));
                    if (ec) break;
                }
                stream.expires_after(context.limits.body_timeout);
                co_await http::async_read(stream, buffer, parser,
                                          asio::redirect_error(asio::use_awaitable, ec));
                if (ec == http::error::body_limit) {
                    response = render_error(
                        Error{Errc::payload_too_large,
                              "body: over the limit of " + std::to_string(admitted->body_limit) +
                                  " bytes"},
                        version, request_id);
                    keep_alive = false;
                    have_response = true;
                } else if (ec && is_disconnect(ec)) {
                    break;
                } else if (ec) {
                    response = render_error(framing_error(ec), version, request_id);
                    keep_alive = false;
                    have_response = true;
                }
            }
            if (!have_response) {
                ClientRequest request = parser.release();
                response = co_await context.pipeline.complete(*config, *admitted, request,
                                                              client_address, request_id);
            }
        }

        response.keep_alive(keep_alive);
        stream.expires_after(context.limits.write_timeout);
        co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
        if (ec || !keep_alive) break;
    }
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
}

}  // namespace gateway
