#include "server/session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <exception>
#include <iostream>
#include <limits>

#include "core/text.hpp"
#include "io/write_message.hpp"
#include "observe/access_record.hpp"
#include "pipeline/chunked_framing.hpp"
#include "pipeline/framing_checks.hpp"
#include "upstream/header_policy.hpp"

namespace gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

using RequestParser = http::request_parser<http::string_body>;

bool is_disconnect(const boost::system::error_code& ec) {
    return ec == http::error::end_of_stream || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == beast::error::timeout || ec == asio::error::operation_aborted;
}

// The method as a metric label: one of the few standard ones, or "other", so that a client
// cannot make up new time series.
std::string_view known_method_label(std::string_view method) {
    for (const std::string_view known : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
        if (method == known) return known;
    }
    return "other";
}

bool expects_continue(const http::request_header<>& header) {
    const auto it = header.find(http::field::expect);
    return it != header.end() && iequals(it->value(), "100-continue");
}

std::string_view view_of(const beast::flat_buffer& buffer) {
    return {static_cast<const char*>(buffer.data().data()), buffer.size()};
}

/// How reading a request head ended.
struct HeadRead {
    enum class Outcome { complete, closed, refused, incomplete } outcome = Outcome::closed;
    std::size_t size = 0;     // complete: bytes of the head at the front of the buffer
    std::optional<Error> refusal;
};

/// What the bytes read so far say of the request head: complete, refused, or incomplete.
HeadRead examine_head(std::string_view bytes, const Limits& limits) {
    HeadRead result;
    if (auto problem = inspect_raw_head(bytes)) {
        result.outcome = HeadRead::Outcome::refused;
        result.refusal = std::move(problem);
    } else if (const auto end = find_head_end(bytes); end && *end <= limits.max_header_bytes) {
        result.outcome = HeadRead::Outcome::complete;
        result.size = *end;
    } else if (end || bytes.size() >= limits.max_header_bytes) {
        result.outcome = HeadRead::Outcome::refused;
        result.refusal = Error{Errc::header_too_large, "the request head is over " +
                                                           std::to_string(limits.max_header_bytes) +
                                                           " bytes"};
    } else {
        result.outcome = HeadRead::Outcome::incomplete;
    }
    return result;
}

/// Reads until the buffer holds a whole request head, checking the raw bytes as they come,
/// within header_timeout from the first byte to the blank line, so a slow-dripping client is
/// cut however it paces its bytes. Only called when what is buffered is incomplete.
Task<HeadRead> read_head(TimedStream& stream, beast::flat_buffer& buffer,
                         const Limits& limits) {
    stream.expires_after(limits.header_timeout);
    while (true) {
        const std::size_t have = buffer.size();
        const std::size_t room = std::min<std::size_t>(4096, limits.max_header_bytes - have);
        boost::system::error_code ec;
        const std::size_t n = co_await stream.async_read_some(
            buffer.prepare(room), asio::redirect_error(use_task, ec));
        if (ec) co_return HeadRead{};  // closed, reset, or a deadline passed: nothing to answer
        buffer.commit(n);
        HeadRead result = examine_head(view_of(buffer), limits);
        if (result.outcome != HeadRead::Outcome::incomplete) co_return result;
    }
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

Error parse_error(const boost::system::error_code& ec) {
    return Error{Errc::malformed_request, "cannot parse the request: " + ec.message()};
}

/// Counts the connection in for its lifetime.
class ConnectionSlot {
public:
    explicit ConnectionSlot(std::atomic<std::size_t>& open) : open_(open) {
        count_ = open_.fetch_add(1, std::memory_order_relaxed) + 1;
    }
    ~ConnectionSlot() { open_.fetch_sub(1, std::memory_order_relaxed); }
    ConnectionSlot(const ConnectionSlot&) = delete;
    ConnectionSlot& operator=(const ConnectionSlot&) = delete;
    std::size_t count() const noexcept { return count_; }

private:
    std::atomic<std::size_t>& open_;
    std::size_t count_;
};

std::string peer_address(const Socket& socket) {
    boost::system::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    return ec ? std::string("unknown") : remote.address().to_string();
}

/// What a client connection keeps between requests: its socket, its read buffer (small while
/// idle), the config it was accepted under and the peer's address. Everything a request needs
/// beyond that lives in serve_request's frame, which exists only while a request is served.
/// Its destructor must not touch the context: a connection waiting idle is owned by its wait
/// handler, which the worker's io_context may destroy after the context is gone.
struct Connection {
    /// The connection keeps the limits it was accepted under.
    Connection(SessionContext& context_, Socket socket)
        : slot(context_.open_connections),
          context(context_),
          config(context.config),
          limits(config->limits),
          client_address(peer_address(socket)),
          stream(std::move(socket),
                 std::min({limits.idle_timeout, limits.header_timeout, limits.body_timeout})) {
        boost::system::error_code ignored;
        stream.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    }

    /// Writes a response whose body is in memory (the gateway's own, or an upstream's buffered
    /// answer) with the one client-head writer, and answers whether the connection may carry
    /// another request. An answer to HEAD (`edits.answers_head`) keeps its Content-Length, the
    /// one a GET would get, but no body follows (RFC 9110 9.3.2), or the client would read it as
    /// the next answer.
    Task<bool> respond(const ClientResponse& response, ClientHeadEdits edits) {
        edits.keep_alive = edits.keep_alive && !context.draining;
        edits.body_size = response.body().size();
        std::string head;
        head.reserve(512);
        append_client_head(head, response.base(), edits);
        const std::string_view body =
            edits.answers_head ? std::string_view() : std::string_view(response.body());
        stream.expires_after(limits.body_timeout);
        boost::system::error_code ec;
        bytes_written = co_await write_head_and_body(stream, head, body, ec);
        co_return !ec && edits.keep_alive;
    }

    /// Every answered request ends here: its metrics, and its access-log line when there is a log.
    void account(AccessRecord& record, std::string_view route_label, std::string_view method_label,
                 std::chrono::steady_clock::time_point started) {
        record.duration = std::chrono::steady_clock::now() - started;
        context.metrics.count_request(route_label, method_label, record.status, record.duration);
        if (!context.access_log) return;
        record.client = client_address;
        context.access_line.clear();
        append_access_line(context.access_line, record);
        context.access_log->write(context.access_line);
    }

    /// The answer to a request the gateway refuses itself, counted and noted in `record`.
    ClientResponse refusal(const Error& error, unsigned version, std::string_view request_id,
                           AccessRecord& record) {
        context.metrics.count_rejection(error.errc);
        record.error_code = info(error.errc).code;
        return render_error(error, version, request_id);
    }

    /// Answers a request refused before it had a route; the connection ends after it.
    Task<void> refuse(const Error& error, AccessRecord& record,
                      std::chrono::steady_clock::time_point started) {
        const std::string request_id = context.request_ids.generate();
        const auto response = refusal(error, 11, request_id, record);
        ClientHeadEdits edits;
        edits.request_id = request_id;
        edits.keep_alive = false;
        co_await respond(response, edits);
        record.request_id = request_id;
        record.status = response.result_int();
        record.bytes_out = bytes_written;
        account(record, "none", "-", started);
    }

    const ConnectionSlot slot;
    SessionContext& context;
    const std::shared_ptr<const Config> config;
    const Limits& limits;
    const std::string client_address;
    TimedStream stream;
    beast::flat_buffer buffer;
    std::uint64_t bytes_written = 0;  // by the last respond()
};

/// One request, from its complete head (the first `head_size` bytes of the buffer) to the last
/// byte of its answer. Answers whether the connection can carry another request.
Task<bool> serve_request(Connection& connection, std::size_t head_size,
                         AccessRecord& record,
                         std::chrono::steady_clock::time_point started) {
    SessionContext& context = connection.context;
    const Limits& limits = connection.limits;
    TimedStream& stream = connection.stream;
    beast::flat_buffer& buffer = connection.buffer;
    boost::system::error_code ec;
    record.bytes_in = head_size;

    RequestParser parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    // The route decides the body limit once the head is checked; until then Beast must
    // not refuse a large Content-Length itself (our 413 names the limit and the route).
    // Not boost::none: Beast 1.74 compares Content-Length against the optional itself,
    // and every number is greater than an empty optional.
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    parser.eager(false);
    parser.put(asio::buffer(buffer.data().data(), head_size), ec);
    if (!ec && !parser.is_header_done()) ec = http::error::need_more;
    if (ec) {
        const Error unparsable = parse_error(ec);
        co_await connection.refuse(unparsable, record, started);
        co_return false;
    }
    buffer.consume(head_size);

    http::request<http::string_body>& header = parser.get();
    const unsigned version = header.version();
    bool keep_alive = header.keep_alive();
    const bool answers_head = header.method() == http::verb::head;
    const std::string request_id = context.request_ids.ensure(header);
    record.request_id = request_id;
    // Copies only when logging: the message moves on to the upstream and is rewritten.
    std::string logged_method, logged_target;
    if (context.access_log) {
        logged_method = header.method_string();
        logged_target = header.target();
        record.method = logged_method;
        record.target = logged_target;
    }
    // A request keeps the config snapshot it started with, whatever happens meanwhile.
    const std::shared_ptr<const Config> config = context.config;

    // What the client gets: filled by a refusal here or by the pipeline, written at the end.
    ClientReply reply;
    const auto content_length = parser.content_length();
    const RouteConfig* matched_route = nullptr;
    auto admitted = context.pipeline.admit(
        *config, header,
        content_length ? std::optional<std::uint64_t>(*content_length) : std::nullopt,
        parser.chunked(), matched_route);
    // Metric labels: the route, or "none" and a bounded method label for what matched none.
    std::string_view route_label = "none";
    std::string_view method_label = known_method_label(header.method_string());
    if (matched_route) {
        route_label = matched_route->name;
        method_label = matched_route->method;
        record.route = route_label;
    }
    // What every answer's head gets from this request, whoever made the answer.
    const auto client_edits = [&] {
        ClientHeadEdits edits;
        edits.version = version;
        edits.request_id = request_id;
        edits.keep_alive = keep_alive && !context.draining;
        edits.answers_head = answers_head;
        return edits;
    };
    const auto refuse_request = [&](const Error& error) {
        reply.response = connection.refusal(error, version, request_id, record);
    };
    if (!admitted) {
        refuse_request(admitted.error());
        // After a framing error the byte stream cannot be trusted; after any refusal with
        // an unread body it is out of step: either way the connection ends here.
        if (!parser.is_done() || admitted.error().errc == Errc::malformed_request) {
            keep_alive = false;
        }
    } else {
        bool have_response = false;
        // A chunked body's extensions are checked as they come, its parse may not buffer more
        // than a head's worth at once (only a size line or the trailers could need that), and
        // its trailer fields, which Beast merges into the head's, are dropped once it is read.
        ChunkExtensionCheck chunk_extensions;
        const bool chunked = parser.chunked();
        std::optional<HeadFields> head_fields;
        if (chunked) head_fields.emplace(parser.get());
        const std::size_t unbounded = buffer.max_size();
        if (!parser.is_done()) {
            parser.body_limit(admitted->body_limit);
            parser.eager(true);
            if (chunked) {
                chunk_extensions.attach(parser);
                buffer.max_size(std::max(limits.max_header_bytes, buffer.size()));
            }
            // RFC 9110 15.2: no 1xx to an HTTP/1.0 client, which would take it for the answer.
            if (version >= 11 && expects_continue(parser.get())) {
                // Interim: no Connection header of its own, even while draining.
                http::response<http::empty_body> go_on{http::status::continue_, version};
                stream.expires_after(limits.body_timeout);
                co_await http::async_write(stream, go_on,
                                           asio::redirect_error(use_task, ec));
                if (ec) co_return false;
            }
            // A body that came with its head (the usual small one) is parsed where it is: an
            // asynchronous read of buffered bytes would still make a trip through the scheduler.
            record.bytes_in += put_buffered(parser, buffer, ec);
            if (!ec && !parser.is_done()) {
                stream.expires_after(limits.body_timeout);
                record.bytes_in += co_await http::async_read(
                    stream, buffer, parser, asio::redirect_error(use_task, ec));
                ec = stream.result(ec);
            }
            if (chunked) buffer.max_size(unbounded);
            if (ec == http::error::body_limit) {
                refuse_request(Error{Errc::payload_too_large,
                                     "body: over the limit of " +
                                         std::to_string(admitted->body_limit) + " bytes"});
                keep_alive = false;
                have_response = true;
            } else if (ec && is_disconnect(ec)) {
                co_return false;
            } else if (ec) {
                if (ec == http::error::bad_chunk_extension && chunk_extensions.refusal()) {
                    refuse_request(*chunk_extensions.refusal());
                } else if (ec == http::error::buffer_overflow) {
                    refuse_request(chunked_overflow_error(view_of(buffer), limits.max_header_bytes));
                } else {
                    refuse_request(parse_error(ec));
                }
                keep_alive = false;
                have_response = true;
            }
        }
        if (head_fields && !have_response) head_fields->drop_others(parser.get());
        if (!have_response) {
            // The client owes nothing while the upstream works (that has its own deadlines):
            // a header or body deadline still running would cut a slow but timely answer.
            stream.expires_never();
            ClientRequest request = parser.release();
            co_await context.pipeline.complete(*config, *admitted, request,
                                               connection.client_address, request_id, reply);
            record.error_code = reply.error_code;
            if (reply.rejection) context.metrics.count_rejection(*reply.rejection);
            if (reply.forwarded) {
                record.upstream = config->upstreams[admitted->route->upstream_index].name;
                record.upstream_status = reply.upstream_status;
                record.upstream_endpoint = reply.upstream_endpoint;
                record.upstream_error_body = reply.upstream_error_body;
                record.upstream_duration = reply.upstream_duration;
            }
            if (reply.rest) {
                record.status = reply.response.result_int();
                const auto relayed = co_await reply.rest->relay(
                    stream, reply.response.base(), client_edits(), limits.body_timeout);
                record.bytes_out = relayed.bytes_written;
                connection.account(record, route_label, method_label, started);
                co_return relayed.keep_alive;
            }
        }
    }
    const ClientResponse& response = reply.response;
    const bool go_on = co_await connection.respond(response, client_edits());
    record.status = response.result_int();
    record.bytes_out = connection.bytes_written;
    connection.account(record, route_label, method_label, started);
    co_return go_on;
}

/// Reads the next request's head and serves it. Answers whether the connection goes on.
Task<bool> serve_next(Connection& connection) {
    // Usually the whole head came with the first read: no coroutine is needed to wait for more.
    HeadRead head = examine_head(view_of(connection.buffer), connection.limits);
    if (head.outcome == HeadRead::Outcome::incomplete) {
        head = co_await read_head(connection.stream, connection.buffer, connection.limits);
    }
    if (head.outcome == HeadRead::Outcome::closed) co_return false;
    const auto started = std::chrono::steady_clock::now();
    AccessRecord record{std::chrono::system_clock::now()};
    if (head.outcome == HeadRead::Outcome::refused) {
        record.bytes_in = connection.buffer.size();
        co_await connection.refuse(*head.refusal, record, started);
        co_return false;
    }
    co_return co_await serve_request(connection, head.size, record, started);
}

/// What an idle connection keeps ready for its next request's first bytes. Reading into it
/// (rather than waiting for readability and then reading) lets Asio leave the socket's epoll
/// registration alone: a wait re-arms it with epoll_ctl every time, a read after a short read
/// just queues. Most request heads fit; a longer one grows the buffer as it is read.
constexpr std::size_t kIdleRead = 384;

void wait_idle(std::unique_ptr<Connection> connection);

/// Serves requests while they come back to back (pipelined, or already read); when the buffer
/// runs dry the connection goes idle in wait_idle and this coroutine ends.
Task<void> serve_connection(std::unique_ptr<Connection> connection) {
    while (co_await serve_next(*connection)) {
        if (connection->buffer.size() > 0) continue;
        if (connection->context.draining) break;
        wait_idle(std::move(connection));
        co_return;
    }
    boost::system::error_code ignored;
    connection->stream.socket().shutdown(Socket::shutdown_send, ignored);
}

void log_session_exception(std::exception_ptr error) {
    if (!error) return;
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        std::cerr << "gateway: session ended by exception: " << e.what() << "\n";
    }
}

/// Waits for the next request's first bytes, within idle_timeout, with no coroutine: an idle
/// keep-alive connection is this object, its socket's registration, a small read buffer and
/// one pending read. The read's handler owns the connection; a drain or the idle deadline
/// closes the socket, the read ends with an error and the connection goes with it.
void wait_idle(std::unique_ptr<Connection> connection) {
    Connection& idle = *connection;
    idle.stream.expires_after(idle.limits.idle_timeout);
    // Only what a large request grew is given back; the small buffer stays for the next one.
    if (idle.buffer.capacity() > kIdleRead) idle.buffer.shrink_to_fit();
    idle.context.idle_streams.insert(&idle.stream);
    idle.stream.socket().async_read_some(
        idle.buffer.prepare(kIdleRead),
        [connection = std::move(connection)](const boost::system::error_code& ec,
                                             std::size_t n) mutable {
            connection->context.idle_streams.erase(&connection->stream);
            if (ec) return;
            connection->buffer.commit(n);
            const auto executor = connection->stream.get_executor();
            asio::co_spawn(executor, serve_connection(std::move(connection)),
                           log_session_exception);
        });
}

/// A connection over limits.max_connections: a 503, then the connection ends.
Task<void> refuse_over_limit(std::unique_ptr<Connection> connection) {
    AccessRecord record{std::chrono::system_clock::now()};
    // Named, not a temporary in the co_await: GCC 12 destroys such temporaries twice.
    const Error overloaded{Errc::overloaded, "the gateway is at its limit of " +
                                                 std::to_string(connection->limits.max_connections) +
                                                 " connections; retry later"};
    co_await connection->refuse(overloaded, record, std::chrono::steady_clock::now());
    boost::system::error_code ignored;
    connection->stream.socket().shutdown(Socket::shutdown_send, ignored);
}

}  // namespace

void start_session(Socket socket, SessionContext& context) {
    auto connection = std::make_unique<Connection>(context, std::move(socket));
    if (connection->slot.count() > connection->limits.max_connections) {
        const auto executor = connection->stream.get_executor();
        asio::co_spawn(executor, refuse_over_limit(std::move(connection)), log_session_exception);
        return;
    }
    wait_idle(std::move(connection));
}

}  // namespace gateway
