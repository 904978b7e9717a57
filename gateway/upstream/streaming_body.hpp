#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "upstream/admission_queue.hpp"
#include "upstream/connection_pool.hpp"
#include "upstream/header_policy.hpp"
#include "io/executor.hpp"

namespace gateway {

using UpstreamBodyParser = boost::beast::http::response_parser<boost::beast::http::buffer_body>;

/// The rest of an upstream's 2xx answer that was too big to buffer: its head has been read,
/// the first bytes of its body too, the remainder is still in the upstream connection. The
/// client connection relays it to the client as it arrives, holding at most one 64 KiB chunk.
class StreamingBody {
public:
    StreamingBody(std::weak_ptr<ConnectionPool> pool, std::unique_ptr<UpstreamConnection> connection,
                  std::unique_ptr<UpstreamBodyParser> parser, std::string prefix,
                  std::optional<std::uint64_t> content_length, bool upstream_keep_alive,
                  std::chrono::milliseconds read_timeout);
    ~StreamingBody();
    StreamingBody(const StreamingBody&) = delete;
    StreamingBody& operator=(const StreamingBody&) = delete;

    /// Writes `head` (with append_client_head and `edits`) and then the body to `client`.
    /// Framing towards the client: the upstream's Content-Length when it gave one, chunked
    /// otherwise (until the connection closes for HTTP/1.0); `edits`' framing and body_size are
    /// set here. If the upstream breaks off, the client's connection is cut before the body is
    /// complete, so a broken answer never looks like a whole one.
    struct Relayed {
        bool keep_alive = false;  // whether the client connection can carry another request
        std::uint64_t bytes_written = 0;
    };
    Task<Relayed> relay(TimedStream& client, const boost::beast::http::response_header<>& head,
                        ClientHeadEdits edits, std::chrono::milliseconds write_timeout);

    /// The upstream's max_in_flight slot: the request is with the upstream until its body
    /// has been relayed.
    void hold(InFlightSlot slot) { slot_ = std::move(slot); }

private:
    void finish(bool reusable);

    std::weak_ptr<ConnectionPool> pool_;  // weak: the worker may be shutting down
    std::unique_ptr<UpstreamConnection> connection_;
    std::unique_ptr<UpstreamBodyParser> parser_;
    std::string prefix_;
    std::optional<std::uint64_t> content_length_;
    bool upstream_keep_alive_;
    std::chrono::milliseconds read_timeout_;
    InFlightSlot slot_;
};

}  // namespace gateway
