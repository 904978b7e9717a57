#include "pipeline/body_reader.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <string>

#include "core/text.hpp"
#include "io/buffer_view.hpp"
#include "pipeline/head_admission.hpp"

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

bool expects_continue(const http::request_header<>& header) {
    const auto it = header.find(http::field::expect);
    return it != header.end() && iequals(it->value(), "100-continue");
}

/// Feeds the parser what the buffer holds, without I/O, and answers the bytes it took; `ec`
/// is clear when it simply needs more.
std::size_t put_buffered(RequestParser& parser, beast::flat_buffer& buffer,
                         boost::system::error_code& ec) {
    std::size_t taken = 0;
    while (!parser.is_done() && buffer.size() > 0) {
        const std::size_t used = parser.put(buffer.data(), ec);
        buffer.consume(used);
        taken += used;
        if (ec == http::error::need_more) ec = {};
        if (ec || used == 0) break;
    }
    return taken;
}

}  // namespace

BodyReader::BodyReader(ClientSide& client, std::size_t body_limit)
    : client_(client), body_limit_(body_limit), chunked_(client.parser.chunked()) {}

bool BodyReader::take_buffered() {
    RequestParser& parser = client_.parser;
    beast::flat_buffer& buffer = client_.buffer;
    if (chunked_) head_fields_.emplace(parser.get());
    if (parser.is_done()) {
        finish({});
        return true;
    }
    parser.body_limit(body_limit_);
    parser.eager(true);
    unbounded_ = buffer.max_size();
    if (chunked_) {
        chunk_extensions_.attach(parser);
        buffer.max_size(std::max(client_.limits.max_header_bytes, buffer.size()));
    }
    send_continue_ = parser.get().version() >= 11 && expects_continue(parser.get());
    if (send_continue_) return false;
    // A body that came with its head (the usual small one) is parsed where it is: an
    // asynchronous read of buffered bytes would still make a trip through the scheduler.
    boost::system::error_code ec;
    client_.body_bytes_in += put_buffered(parser, buffer, ec);
    if (!ec && !parser.is_done()) return false;
    finish(ec);
    return true;
}

Task<void> BodyReader::read_rest() {
    RequestParser& parser = client_.parser;
    boost::system::error_code ec;
    if (send_continue_) {
        // Interim: no Connection header of its own, even while draining.
        const unsigned version = parser.get().version();
        http::response<http::empty_body> go_on{http::status::continue_, version};
        client_.stream.expires_after(client_.limits.body_timeout);
        co_await http::async_write(client_.stream, go_on, asio::redirect_error(use_task, ec));
        if (ec) {
            result_.outcome = BodyRead::Outcome::disconnected;
            co_return;
        }
        client_.body_bytes_in += put_buffered(parser, client_.buffer, ec);
    }
    if (!ec && !parser.is_done()) {
        client_.stream.expires_after(client_.limits.body_timeout);
        client_.body_bytes_in += co_await http::async_read(
            client_.stream, client_.buffer, parser, asio::redirect_error(use_task, ec));
        ec = client_.stream.result(ec);
    }
    finish(ec);
}

void BodyReader::finish(const boost::system::error_code& ec) {
    if (chunked_ && unbounded_ != 0) client_.buffer.max_size(unbounded_);
    if (!ec) {
        if (head_fields_) head_fields_->drop_others(client_.parser.get());
        result_ = BodyRead{};
    } else if (ec == http::error::body_limit) {
        result_ = BodyRead{BodyRead::Outcome::refused,
                           Error{Errc::payload_too_large,
                                 "body: over the limit of " + std::to_string(body_limit_) + " bytes"}};
    } else if (is_disconnect(ec)) {
        result_ = BodyRead{BodyRead::Outcome::disconnected, std::nullopt};
    } else if (ec == http::error::bad_chunk_extension && chunk_extensions_.refusal()) {
        result_ = BodyRead{BodyRead::Outcome::refused, *chunk_extensions_.refusal()};
    } else if (ec == http::error::buffer_overflow) {
        result_ = BodyRead{BodyRead::Outcome::refused,
                           chunked_overflow_error(view_of(client_.buffer),
                                                  client_.limits.max_header_bytes)};
    } else {
        result_ = BodyRead{BodyRead::Outcome::refused, parse_error(ec)};
    }
}

}  // namespace gateway
