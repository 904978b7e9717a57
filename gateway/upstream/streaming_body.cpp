#include "upstream/streaming_body.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include <vector>

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
    if (auto pool = pool_.lock()) {
        pool->release(std::move(connection_), reusable);
    } else {
        connection_.reset();
    }
}

Task<StreamingBody::Relayed> StreamingBody::relay(TimedStream& client,
                                                  http::response<http::string_body>&& head,
                                                  bool keep_alive,
                                                  std::chrono::milliseconds write_timeout) {
    http::response<http::buffer_body> out{std::move(head.base())};
    if (content_length_) {
        out.content_length(*content_length_);
    } else if (out.version() == 11) {
        out.chunked(true);
    } else {
        keep_alive = false;  // HTTP/1.0: the end of the body is the end of the connection
    }
    out.keep_alive(keep_alive);
    http::response_serializer<http::buffer_body> serializer{out};
    boost::system::error_code ec;
    Relayed relayed;

    // Writes what out.body() points at; need_buffer only means "give me the next piece".
    const auto write = [&]() -> Task<bool> {
        client.expires_after(write_timeout);
        relayed.bytes_written += co_await http::async_write(
            client, serializer, asio::redirect_error(use_task, ec));
        if (ec == http::error::need_buffer) ec = {};
        co_return !ec;
    };

    out.body().data = prefix_.data();
    out.body().size = prefix_.size();
    out.body().more = true;
    if (!co_await write()) co_return relayed;

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
            boost::system::error_code ignored;
            client.socket().shutdown(Socket::shutdown_both, ignored);
            co_return relayed;
        }
        out.body().data = chunk.data();
        out.body().size = chunk.size() - parser_->get().body().size;
        out.body().more = true;
        if (!co_await write()) co_return relayed;
    }
    out.body().data = nullptr;
    out.body().size = 0;
    out.body().more = false;
    const bool written = co_await write();
    finish(upstream_keep_alive_);
    relayed.keep_alive = written && keep_alive;
    co_return relayed;
}

}  // namespace gateway
