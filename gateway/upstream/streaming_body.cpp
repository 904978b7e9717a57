#include "upstream/streaming_body.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

#include <string>
#include <vector>

#include "io/write_message.hpp"

namespace gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

StreamingBody::StreamingBody(std::weak_ptr<ConnectionPool> pool,
                             std::unique_ptr<UpstreamConnection> connection,
                             std::unique_ptr<UpstreamBodyParser> parser, std::string prefix,
                             std::optional<std::uint64_t> content_length, bool upstream_keep_alive,
                             std::chrono::milliseconds read_timeout)
    : pool_(std::move(pool)),
      connection_(std::move(connection)),
      parser_(std::move(parser)),
      prefix_(std::move(prefix)),
      content_length_(content_length),
      upstream_keep_alive_(upstream_keep_alive),
      read_timeout_(read_timeout) {}

StreamingBody::~StreamingBody() {
    if (connection_) finish(false);
}

void StreamingBody::finish(bool reusable) {
    slot_ = InFlightSlot();  // the upstream is done with this request
    if (auto pool = pool_.lock()) {
        pool->release(std::move(connection_), reusable);
    } else {
        connection_.reset();
    }
}

namespace {

/// What goes before a chunk of `size` bytes: the CRLF that ends the previous chunk, if any,
/// and this chunk's size line (RFC 9112 7.1). The last chunk is size 0 plus the empty trailer.
void append_chunk_start(std::string& out, bool after_chunk, std::size_t size) {
    if (after_chunk) out += "\r\n";
    char digits[2 * sizeof(std::size_t)];
    std::size_t at = sizeof digits;
    do {
        digits[--at] = "0123456789abcdef"[size & 0xF];
        size >>= 4;
    } while (size != 0);
    out.append(digits + at, sizeof digits - at);
    out += "\r\n";
}

}  // namespace

Task<StreamingBody::Relayed> StreamingBody::relay(TimedStream& client,
                                                  const http::response_header<>& head,
                                                  ClientHeadEdits edits,
                                                  std::chrono::milliseconds write_timeout) {
    if (content_length_) {
        edits.framing = BodyFraming::length;
        edits.body_size = static_cast<std::size_t>(*content_length_);
    } else if (edits.version >= 11) {
        edits.framing = BodyFraming::chunked;
    } else {
        edits.framing = BodyFraming::until_close;  // HTTP/1.0: the body ends with the connection
        edits.keep_alive = false;
    }
    const bool chunked = edits.framing == BodyFraming::chunked;
    boost::system::error_code ec;
    Relayed relayed;
    // Each write is framing (the head, a chunk's size line) and the bytes it announces.
    std::string framing;
    framing.reserve(512);
    append_client_head(framing, head, edits);
    bool after_chunk = false;
    const auto write = [&](std::string_view data) -> Task<bool> {
        if (chunked && !data.empty()) {
            append_chunk_start(framing, after_chunk, data.size());
            after_chunk = true;
        }
        client.expires_after(write_timeout);
        relayed.bytes_written += co_await write_head_and_body(client, framing, data, ec);
        framing.clear();
        co_return !ec;
    };

    if (!co_await write(prefix_)) co_return relayed;

    std::vector<char> chunk(64 * 1024);
    while (!parser_->is_done()) {
        parser_->get().body().data = chunk.data();
        parser_->get().body().size = chunk.size();
        connection_->stream.expires_after(read_timeout_);
        co_await http::async_read(connection_->stream, connection_->buffer, *parser_,
                                  asio::redirect_error(use_task, ec));
        if (ec == http::error::need_buffer) ec = {};
        if (ec) {
            // The upstream broke off: cut the client too, so the short body is seen as broken.
            client.transport().shutdown_both();
            co_return relayed;
        }
        const std::size_t got = chunk.size() - parser_->get().body().size;
        if (got == 0) continue;  // an empty chunk would end a chunked body early
        if (!co_await write({chunk.data(), got})) co_return relayed;
    }
    bool written = true;
    if (chunked) {
        append_chunk_start(framing, after_chunk, 0);
        framing += "\r\n";
        written = co_await write({});
    }
    finish(upstream_keep_alive_);
    relayed.keep_alive = written && edits.keep_alive;
    co_return relayed;
}

}  // namespace gateway
