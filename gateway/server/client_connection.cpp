#include "server/client_connection.hpp"

#include <boost/container/small_vector.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <algorithm>
#include <exception>
#include <iostream>
#include <optional>

#include "core/text.hpp"
#include "io/buffer_view.hpp"
#include "io/tls_error.hpp"
#include "io/write_message.hpp"
#include "observe/access_record.hpp"
#include "pipeline/head_admission.hpp"
#include "server/request_spans.hpp"
#include "server/tls_handshake.hpp"
#include "upstream/header_policy.hpp"

namespace gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// The method as a metric label: one of the few standard ones, or "other", so that a client
// cannot make up new time series.
std::string_view known_method_label(std::string_view method) {
    for (const std::string_view known : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
        if (method == known) return known;
    }
    return "other";
}

/// Reads until the buffer holds a whole request head, checking the raw bytes as they come,
/// within header_timeout from the first byte to the blank line, so a slow-dripping client is
/// cut however it paces its bytes. Only called when what is buffered is incomplete.
/// Nothing: the connection closed, reset or passed the deadline first (nothing to answer).
Task<std::optional<HeadScan>> read_head(TimedStream& stream, beast::flat_buffer& buffer,
                                        const Limits& limits) {
    stream.expires_after(limits.header_timeout);
    while (true) {
        const std::size_t have = buffer.size();
        const std::size_t room = std::min<std::size_t>(4096, limits.max_header_bytes - have);
        boost::system::error_code ec;
        const std::size_t n = co_await stream.async_read_some(
            buffer.prepare(room), asio::redirect_error(use_task, ec));
        if (ec) co_return std::nullopt;
        buffer.commit(n);
        HeadScan result = scan_head(view_of(buffer), limits);
        if (result.outcome != HeadScan::Outcome::incomplete) co_return result;
    }
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

/// What a client connection keeps between requests: its socket, its read buffer (small while
/// idle), the config it was accepted under and the peer's address. Everything a request needs
/// beyond that lives in serve_request's frame, which exists only while a request is served.
/// Its destructor must not touch the context: a connection waiting idle is owned by its wait
/// handler, which the worker's io_context may destroy after the context is gone.
struct Connection {
    /// The connection keeps the limits it was accepted under.
    Connection(ClientContext& context_, Transport transport)
        : slot(context_.open_connections),
          context(context_),
          config(context.config),
          limits(config->limits),
          client_address(transport.remote_address()),
          stream(std::move(transport),
                 std::min({limits.idle_timeout, limits.header_timeout, limits.body_timeout})) {
        stream.transport().set_no_delay();
    }

    /// Every request ends here, whoever made its answer: the reply is written (whole, or its
    /// head and then the relayed body) with the edits `edits` carries, and then counted, its
    /// rejection too, and logged. Answers whether the connection can carry another request.
    Task<bool> answer(ClientReply& reply, ClientHeadEdits edits, AccessRecord& record,
                      std::string_view method_label, std::chrono::steady_clock::time_point started) {
        edits.keep_alive = edits.keep_alive && reply.keep_alive && !context.draining;
        record.status = reply.response.result_int();
        record.error_code = reply.error_code;
        if (reply.route) record.route = reply.route->name;
        if (reply.forwarded) {
            record.upstream = reply.upstream_name;
            record.upstream_status = reply.upstream_status;
            record.upstream_endpoint = reply.upstream_endpoint;
            record.upstream_error_body = reply.upstream_error_body;
            record.upstream_duration = reply.upstream_duration;
        }
        bool go_on = false;
        if (reply.rest) {
            const auto relayed = co_await reply.rest->relay(stream, reply.response.base(), edits,
                                                            limits.body_timeout);
            bytes_written = relayed.bytes_written;
            go_on = relayed.keep_alive;
        } else {
            // A body in memory (the gateway's own, or an upstream's buffered answer), written
            // here rather than in a coroutine of its own, which would cost a frame. An answer
            // to HEAD keeps its Content-Length, the one a GET would get, but no body follows
            // (RFC 9110 9.3.2), or the client would read it as the next answer.
            edits.body_size = reply.response.body().size();
            std::string head;
            head.reserve(512);
            append_client_head(head, reply.response.base(), edits);
            const std::string_view body = edits.answers_head
                                              ? std::string_view()
                                              : std::string_view(reply.response.body());
            stream.expires_after(limits.body_timeout);
            boost::system::error_code ec;
            bytes_written = co_await write_head_and_body(stream, head, body, ec);
            go_on = !ec && edits.keep_alive;
        }
        record.bytes_out = bytes_written;
        if (reply.rejection) context.metrics.count_rejection(*reply.rejection);
        if (reply.rejection == Errc::rate_limited && reply.route) {
            context.metrics.count_rate_limited(reply.route->name);
        }
        // Metric labels: the route, or "none" and a bounded method label for what matched none.
        const std::string_view route_label = reply.route ? std::string_view(reply.route->name) : "none";
        if (reply.route) method_label = reply.route->method;
        record.duration = std::chrono::steady_clock::now() - started;
        context.metrics.count_request(route_label, method_label, record.status, record.duration);
        if (context.access_log) {
            record.client = client_address;
            record.tls_version = tls.version;
            record.tls_cipher = tls.cipher;
            record.client_cert_subject = tls.client_subject;
            context.access_line.clear();
            append_access_line(context.access_line, record);
            context.access_log->write(context.access_line);
        }
        co_return go_on;
    }

    /// Answers a request refused before it had a route; the connection ends after it.
    Task<void> refuse(const Error& error, AccessRecord& record,
                      std::chrono::steady_clock::time_point started) {
        const std::string request_id = context.request_ids.generate();
        record.request_id = request_id;
        ClientReply reply;
        reply.refuse(error, 11, request_id);
        reply.keep_alive = false;
        ClientHeadEdits edits;
        edits.request_id = request_id;
        co_await answer(reply, edits, record, "-", started);
    }

    const ConnectionSlot slot;
    ClientContext& context;
    const std::shared_ptr<const Config> config;
    const Limits& limits;
    const std::string client_address;
    TimedStream stream;
    beast::flat_buffer buffer;
    std::uint64_t bytes_written = 0;  // by the last answer()
    TlsConnectionInfo tls;            // empty on plain TCP
};

/// What a recorded request's server span says of its head.
struct RecordedHead {
    explicit RecordedHead(const http::request_header<>& header)
        : method(header.method_string()), target(header.target()) {
        if (const auto field = header.find(http::field::host); field != header.end()) {
            std::string_view value = field->value();
            // The host without its port and brackets ("[::1]:8080" -> "::1", "api:443" -> "api"),
            // as OpenTelemetry's server.address wants it.
            const auto colon = value.rfind(':');
            if (colon != std::string_view::npos && value.find(']', colon) == std::string_view::npos) {
                value = value.substr(0, colon);
            }
            if (value.size() >= 2 && value.front() == '[' && value.back() == ']') {
                value = value.substr(1, value.size() - 2);
            }
            host = value;
        }
    }
    std::string method;
    std::string target;
    std::string host;
};

/// The request's W3C trace: the caller's continued when it sent exactly one valid traceparent,
/// else a new one. Without `tracing` the sampled flag goes on as the caller set it (the gateway
/// records nothing); with it, the caller's flag decides when respect_parent_sampling says so,
/// else sampling_ratio does, and a sampled request is recorded.
TraceContext trace_context_of(const http::request_header<>& header, TraceIdSource& ids,
                              const TracingConfig* tracing) {
    boost::container::small_vector<std::string_view, 2> traceparents;
    boost::container::small_vector<std::string_view, 2> tracestates;
    // One walk over the fields, most of them passed over on their length and first letter:
    // cheaper than two lookups in the fields' case-insensitive index.
    for (const auto& field : header) {
        if (field.name() != http::field::unknown) continue;
        const std::string_view name = field.name_string();
        if ((name.size() != 11 && name.size() != 10) || (name[0] | 0x20) != 't') continue;
        if (iequals(name, "traceparent")) {
            traceparents.push_back(field.value());
        } else if (iequals(name, "tracestate")) {
            tracestates.push_back(field.value());
        }
    }
    if (traceparents.size() != 1) tracestates.clear();  // it goes only with the trace it came with
    TraceContext trace = make_trace_context(
        std::span<const std::string_view>(traceparents.data(), traceparents.size()),
        std::span<const std::string_view>(tracestates.data(), tracestates.size()), ids,
        [&](std::optional<bool> parent_sampled) {
            if (!tracing) return parent_sampled.value_or(false);
            if (parent_sampled && tracing->respect_parent_sampling) return *parent_sampled;
            return tracing->sampling_ratio >= 1.0 || ids.uniform() < tracing->sampling_ratio;
        });
    trace.recording = tracing && trace.sampled;
    return trace;
}

/// One request, from its complete head (the first `head_size` bytes of the buffer) to the last
/// byte of its answer: the head is parsed, the pipeline serves it over this connection, and
/// the reply is answered. Answers whether the connection can carry another request.
Task<bool> serve_request(Connection& connection, std::size_t head_size,
                         AccessRecord& record,
                         std::chrono::steady_clock::time_point started) {
    ClientContext& context = connection.context;
    beast::flat_buffer& buffer = connection.buffer;
    record.bytes_in = head_size;

    RequestParser parser;
    if (auto parsed = parse_head(parser, view_of(buffer).substr(0, head_size), connection.limits);
        !parsed) {
        co_await connection.refuse(parsed.error(), record, started);
        co_return false;
    }
    buffer.consume(head_size);

    const ClientRequest& header = parser.get();
    const std::string request_id = context.request_ids.ensure(header);
    record.request_id = request_id;
    // A request keeps the config snapshot it started with, whatever happens meanwhile.
    const std::shared_ptr<const Config> config = context.config;
    const TraceContext trace =
        trace_context_of(header, context.trace_ids, context.spans ? config->tracing.get() : nullptr);
    record.trace_id = trace.trace_id_text();
    record.span_id = trace.span_id_text();
    // A recorded request's span needs what the pipeline moves on with the message (copied into
    // a block of its own, so that an unrecorded request's frame stays as small as it was).
    std::unique_ptr<RecordedHead> recorded;
    if (trace.recording) recorded = std::make_unique<RecordedHead>(header);
    // Copies only when logging: the message moves on to the upstream and is rewritten.
    std::string logged_method, logged_target;
    if (context.access_log) {
        logged_method = header.method_string();
        logged_target = header.target();
        record.method = logged_method;
        record.target = logged_target;
    }
    ClientHeadEdits edits;
    edits.version = header.version();
    edits.request_id = request_id;
    edits.keep_alive = header.keep_alive();
    edits.answers_head = header.method() == http::verb::head;
    const std::string_view method_label = known_method_label(header.method_string());

    Exchange exchange(*config, &header);
    exchange.rate_limiter = context.rate_limiter;
    exchange.rate_view = &context.rate_view;
    exchange.client_address = connection.client_address;
    exchange.trace = &trace;
    if (const auto content_length = parser.content_length()) exchange.content_length = *content_length;
    exchange.chunked = parser.chunked();
    ClientSide client{connection.stream, buffer, parser, connection.limits,
                      connection.client_address};
    ClientReply reply;
    co_await context.pipeline.serve(exchange, client, request_id, reply);
    if (exchange.rate_verdict != RateVerdict::none && exchange.route) {
        context.metrics.count_rate_decision(exchange.route->name, exchange.rate_verdict,
                                            exchange.rate_fallback);
    }
    record.bytes_in += client.body_bytes_in;
    if (reply.disconnected) co_return false;
    const bool go_on = co_await connection.answer(reply, edits, record, method_label, started);
    if (recorded) {
        const ServerSpanFacts facts{recorded->method, recorded->target, recorded->host,
                                    connection.client_address, record.status, record.time, started,
                                    std::chrono::steady_clock::now()};
        context.spans->submit(request_spans(trace, facts, reply));
    }
    co_return go_on;
}

/// Reads the next request's head and serves it. Answers whether the connection goes on.
Task<bool> serve_next(Connection& connection) {
    // Usually the whole head came with the first read: no coroutine is needed to wait for more.
    std::optional<HeadScan> head = scan_head(view_of(connection.buffer), connection.limits);
    if (head->outcome == HeadScan::Outcome::incomplete) {
        head = co_await read_head(connection.stream, connection.buffer, connection.limits);
    }
    if (!head) co_return false;
    const auto started = std::chrono::steady_clock::now();
    AccessRecord record{std::chrono::system_clock::now()};
    if (head->outcome == HeadScan::Outcome::refused) {
        record.bytes_in = connection.buffer.size();
        co_await connection.refuse(*head->refusal, record, started);
        co_return false;
    }
    co_return co_await serve_request(connection, head->size, record, started);
}

/// What an idle connection keeps ready for its next request's first bytes. Reading into it
/// (rather than waiting for readability and then reading) lets Asio leave the socket's epoll
/// registration alone: a wait re-arms it with epoll_ctl every time, a read after a short read
/// just queues. Most request heads fit; a longer one grows the buffer as it is read.
constexpr std::size_t kIdleRead = 384;

void wait_idle(std::unique_ptr<Connection> connection);

/// Ends a TLS connection as TLS says to: a close_notify alert, so the client can tell a whole
/// answer from a cut one, and the client's own close_notify (or its FIN), waited for up to
/// header_timeout.
Task<void> close_tls(Connection& connection) {
    connection.stream.expires_after(connection.limits.header_timeout);
    boost::system::error_code ignored;
    co_await connection.stream.transport().tls_stream()->async_shutdown(
        asio::redirect_error(use_task, ignored));
}

/// Serves requests while they come back to back (pipelined, or already read); when the buffer
/// runs dry the connection goes idle in wait_idle and this coroutine ends.
Task<void> serve_connection(std::unique_ptr<Connection> connection) {
    while (co_await serve_next(*connection)) {
        if (connection->buffer.size() > 0) continue;
        if (connection->context.draining) break;
        wait_idle(std::move(connection));
        co_return;
    }
    if (connection->stream.transport().is_tls()) co_await close_tls(*connection);
    // Written out, not as Transport::shutdown_send(): with that call as its last statement GCC 12
    // builds this coroutine so that its first resume meets a resume index it does not know and
    // crashes (every request did, in the Release and the sanitizer builds alike).
    boost::system::error_code ignored;
    connection->stream.transport().tcp().shutdown(Socket::shutdown_send, ignored);
}

void log_connection_exception(std::exception_ptr error) {
    if (!error) return;
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        std::cerr << "gateway: client connection ended by exception: " << e.what() << "\n";
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
    idle.stream.transport().async_read_some(
        idle.buffer.prepare(kIdleRead),
        [connection = std::move(connection)](const boost::system::error_code& ec,
                                             std::size_t n) mutable {
            connection->context.idle_streams.erase(&connection->stream);
            if (ec) return;
            connection->buffer.commit(n);
            const auto executor = connection->stream.get_executor();
            asio::co_spawn(executor, serve_connection(std::move(connection)),
                           log_connection_exception);
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
    if (connection->stream.transport().is_tls()) co_await close_tls(*connection);
    connection->stream.transport().shutdown_send();
}

void report_handshake_failure(Connection& connection, TlsHandshakeFailure reason,
                              const std::string& why) {
    connection.context.metrics.count_tls_handshake_error(reason);
    std::uint64_t suppressed = 0;
    if (!connection.context.handshake_log || !connection.context.handshake_log->allow(suppressed)) {
        return;
    }
    std::cerr << "gateway: TLS handshake with " << connection.client_address << " failed ("
              << kTlsHandshakeFailures[static_cast<std::size_t>(reason)] << "): " << why;
    if (suppressed > 0) std::cerr << "; " << suppressed << " more since the last line not shown";
    std::cerr << "\n";
}

/// A plain HTTP request on the TLS port: read its head, so that closing does not reset the
/// connection before the client has read the answer, and tell it to use https.
Task<void> refuse_plain_http(std::unique_ptr<Connection> connection) {
    const auto started = std::chrono::steady_clock::now();
    AccessRecord record{std::chrono::system_clock::now()};
    const auto head = co_await read_head(connection->stream, connection->buffer,
                                         connection->limits);
    if (!head) co_return;
    record.bytes_in = connection->buffer.size();
    const Error plain{Errc::plain_http_on_tls_port,
                      "this port speaks HTTPS only and the request came as plain HTTP: send it "
                      "to https:// instead"};
    co_await connection->refuse(plain, record, started);
    connection->stream.transport().shutdown_send();
}

/// The start of a connection to the TLS listener. Its first byte tells a TLS handshake (a
/// handshake record, 0x16) from a plain HTTP request (a method's first letter); the peek
/// leaves it in place for whichever reads next.
Task<void> open_tls(std::unique_ptr<Connection> connection) {
    Transport& transport = connection->stream.transport();
    connection->stream.expires_after(connection->limits.header_timeout);
    std::optional<unsigned char> first;
    bool closed = false;
    while (!first && !closed) {
        boost::system::error_code ec;
        co_await transport.tcp().async_wait(Socket::wait_read, asio::redirect_error(use_task, ec));
        if (ec) break;
        first = transport.peek_byte(closed);
    }
    if (!first) {
        // Closed before a single byte: a load balancer's TCP health check or a port probe,
        // which never began a handshake. Counted and logged, they would bury the real failures
        // under one line per check. Silence until the deadline is another thing: a timeout.
        if (!connection->stream.timed_out()) co_return;
        const std::string why = "no handshake came";
        report_handshake_failure(*connection, TlsHandshakeFailure::timeout, why);
        co_return;
    }
    constexpr unsigned char kHandshakeRecord = 0x16;
    if (*first != kHandshakeRecord) {
        const std::string why = "it sent plain HTTP";
        report_handshake_failure(*connection, TlsHandshakeFailure::plain_http, why);
        co_await refuse_plain_http(std::move(connection));
        co_return;
    }
    // The connection keeps the config it was accepted under, and with it these contexts.
    const ServerTls* tls = connection->config->tls.get();
    if (!tls) co_return;  // a reload that drops tls: is refused while this listener is open
    TlsStream& tls_stream = transport.start_tls(tls->default_context());
    boost::system::error_code ec;
    co_await tls_stream.async_handshake(TlsStream::Role::server,
                                        asio::redirect_error(use_task, ec));
    if (ec) {
        const TlsHandshakeFailure reason =
            classify_handshake_failure(ec, connection->stream.timed_out());
        const std::string why = connection->stream.timed_out()
                                    ? "it did not finish within header_timeout"
                                    : tls_error_text(ec);
        report_handshake_failure(*connection, reason, why);
        co_return;
    }
    connection->tls = describe_tls(tls_stream);
    if (connection->slot.count() > connection->limits.max_connections) {
        co_await refuse_over_limit(std::move(connection));
        co_return;
    }
    wait_idle(std::move(connection));
}

}  // namespace

void serve_client(Transport transport, ClientContext& context) {
    auto connection = std::make_unique<Connection>(context, std::move(transport));
    if (connection->slot.count() > connection->limits.max_connections) {
        const auto executor = connection->stream.get_executor();
        asio::co_spawn(executor, refuse_over_limit(std::move(connection)), log_connection_exception);
        return;
    }
    wait_idle(std::move(connection));
}

void serve_tls_client(Transport transport, ClientContext& context) {
    auto connection = std::make_unique<Connection>(context, std::move(transport));
    const auto executor = connection->stream.get_executor();
    asio::co_spawn(executor, open_tls(std::move(connection)), log_connection_exception);
}

}  // namespace gateway
