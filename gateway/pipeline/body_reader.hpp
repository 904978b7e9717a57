#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

#include "config/config.hpp"
#include "core/error.hpp"
#include "io/executor.hpp"
#include "io/timed_stream.hpp"
#include "pipeline/chunked_framing.hpp"
#include "pipeline/exchange.hpp"

namespace gateway {

/// What a client connection lends the pipeline for one request: the stream, the bytes read
/// past the head, and the parser that holds the head and takes the body.
struct ClientSide {
    TimedStream& stream;
    boost::beast::flat_buffer& buffer;
    RequestParser& parser;
    const Limits& limits;
    std::string_view address;  // the peer's, for X-Forwarded-For
    std::uint64_t body_bytes_in = 0;  // body bytes taken off the connection (with framing)
};

/// How reading a request body ended.
struct BodyRead {
    enum class Outcome { complete, refused, disconnected } outcome = Outcome::complete;
    std::optional<Error> refusal;  // refused: what the client gets; the connection then ends
};

/// The body read, a step of the pipeline between the head stages and the body stages: a
/// 100 Continue first when the client asked for one (never to HTTP/1.0, RFC 9110 15.2), then
/// the body within `body_limit` (413) and limits.body_timeout. A chunked body's extensions are
/// checked as they come, its parse may not buffer more than a head's worth at once (only a
/// size line or the trailers could need that: 400 or 431), and its trailer fields, which Beast
/// merges into the head's, are dropped once it is read.
///
/// In two parts, because most requests need no I/O for their body (none, or a small one that
/// came with the head) and a coroutine costs a frame and a resumption: take_buffered() settles
/// those; only when it cannot does read_rest() wait on the connection.
class BodyReader {
public:
    BodyReader(ClientSide& client, std::size_t body_limit);
    BodyReader(const BodyReader&) = delete;
    BodyReader& operator=(const BodyReader&) = delete;

    /// Without I/O: true when the read is over (see result()), false when read_rest() must run.
    bool take_buffered();
    /// The rest, from the connection: the 100 Continue and the bytes still to come.
    Task<void> read_rest();
    const BodyRead& result() const noexcept { return result_; }

private:
    void finish(const boost::system::error_code& ec);

    ClientSide& client_;
    const std::size_t body_limit_;
    const bool chunked_;
    bool send_continue_ = false;
    std::size_t unbounded_ = 0;  // the buffer's max_size before a chunked read bounded it
    ChunkExtensionCheck chunk_extensions_;  // attached to the parser: lives as long as the read
    std::optional<HeadFields> head_fields_;
    BodyRead result_;
};

}  // namespace gateway
