#include "upstream/forwarder.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include "io/tls_error.hpp"
#include "io/write_message.hpp"
#include "upstream/answer_status.hpp"

namespace gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

namespace {

/// How one request/response exchange on one connection ended (the answer itself, when one came,
/// is in the caller's UpstreamReply).
struct Exchange {
    bool answered = false;  // a whole head came, and the body as far as read
    std::unique_ptr<UpstreamBodyParser> parser;  // set when the body goes on past the buffer
    std::optional<std::uint64_t> content_length;
    Error error{Errc::internal_error, ""};
    bool nothing_received = false;  // the upstream sent no byte: safe to retry idempotently
    bool keep_alive = false;
};

bool is_idempotent(http::verb method) {
    return method == http::verb::get || method == http::verb::head ||
           method == http::verb::put || method == http::verb::delete_ ||
           method == http::verb::options;
}

/// RFC 9110 15: a status is 100 to 599 (Beast takes any three digits). 101 Switching Protocols
/// answers an Upgrade, which the gateway never sends: after it the bytes are not HTTP.
bool is_valid_upstream_status(unsigned status) {
    return status >= 100 && status <= 599 && status != 101;
}

std::string milliseconds(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

/// Sets the parser to put the next body bytes at the end of `body` and answers the room given:
/// what the Content-Length still promises, or else a doubling chunk (resize zero-fills, so a
/// fixed 64 KiB per 145-byte answer would cost more than the proxying).
std::size_t make_room(UpstreamBodyParser& parser, std::string& body, std::size_t limit) {
    const std::size_t before = body.size();
    const auto length = parser.content_length();
    const std::size_t wanted = length && *length > before ? static_cast<std::size_t>(*length) - before
                                                          : std::max<std::size_t>(4096, before);
    const std::size_t room = std::min({wanted, std::size_t(64 * 1024), limit - before});
    body.resize(before + room);
    parser.get().body().data = body.data() + before;
    parser.get().body().size = room;
    return room;
}

/// Moves body bytes already in the connection's buffer into `body`, up to `limit`, without I/O.
/// The usual answer's body arrives with its head, and an asynchronous read of buffered bytes
/// would still make a trip through the scheduler.
boost::system::error_code take_buffered_body(UpstreamConnection& connection,
                                             UpstreamBodyParser& parser, std::string& body,
                                             std::size_t limit) {
    boost::system::error_code ec;
    while (!parser.is_done() && body.size() < limit && connection.buffer.size() > 0) {
        const std::size_t before = body.size();
        const std::size_t room = make_room(parser, body, limit);
        const std::size_t used = parser.put(connection.buffer.data(), ec);
        connection.buffer.consume(used);
        body.resize(before + room - parser.get().body().size);
        if (ec == http::error::need_buffer) ec = {};  // the room is full: make more
        if (ec == http::error::need_more) return {};  // the rest has yet to arrive
        if (ec || used == 0) break;
    }
    return ec;
}

/// Reads body bytes into `body` until the message ends or `body` holds `limit` bytes.
Task<boost::system::error_code> read_body_up_to(UpstreamConnection& connection,
                                                UpstreamBodyParser& parser,
                                                std::string& body, std::size_t limit) {
    boost::system::error_code ec;
    while (!parser.is_done() && body.size() < limit) {
        const std::size_t before = body.size();
        const std::size_t room = make_room(parser, body, limit);
        co_await http::async_read(connection.stream, connection.buffer, parser,
                                  asio::redirect_error(use_task, ec));
        ec = connection.stream.result(ec);
        body.resize(before + room - parser.get().body().size);
        if (ec == http::error::need_buffer) ec = {};
        if (ec) break;
    }
    co_return ec;
}

Error read_error(const boost::system::error_code& ec, bool nothing_received,
                 const UpstreamConfig& upstream, const std::string& name) {
    if (ec == beast::error::timeout) {
        return {Errc::upstream_timeout, "no complete response from " + name + " within " +
                                            milliseconds(upstream.request_timeout)};
    }
    if (ec == http::error::body_limit) {
        return {Errc::upstream_bad_response, name + " sent a response body over the " +
                                                 std::to_string(upstream.max_response_bytes) +
                                                 "-byte limit"};
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == http::error::partial_message ||
        ec == asio::error::broken_pipe || ec == asio::ssl::error::stream_truncated) {
        return {Errc::upstream_reset,
                nothing_received ? name + " closed the connection without answering"
                                 : name + " closed the connection in the middle of its response"};
    }
    if (ec.category() == http::make_error_code(http::error::body_limit).category()) {
        return {Errc::upstream_bad_response, name + " sent an invalid HTTP response: " + ec.message()};
    }
    // TLS 1.3 finishes the client's handshake before the server has judged its certificate:
    // a backend that refuses ours says so with an alert on the first read.
    if (ec.category() == asio::error::get_ssl_category()) {
        return {Errc::upstream_tls_failed, "TLS with " + name + " failed: " + tls_error_text(ec)};
    }
    return {Errc::upstream_reset, "reading the response from " + name + " failed: " + ec.message()};
}

/// One request/response exchange on one connection: the answer goes into `answer`, how it
/// went into `result` (both filled in place, not moved out through the coroutine).
Task<void> exchange(UpstreamConnection& connection, const UpstreamRequest& request,
                    const UpstreamConfig& upstream, const std::string& name,
                    Clock::time_point deadline, UpstreamResponse& answer, Exchange& result) {
    boost::system::error_code ec;
    connection.stream.expires_at(deadline);
    co_await write_head_and_body(connection.stream, request.head, request.body, ec);
    ec = connection.stream.result(ec);
    if (ec) {
        result.nothing_received = true;
        if (ec == beast::error::timeout) {
            result.error = {Errc::upstream_timeout, "sending the request to " + name +
                                                        " took longer than " +
                                                        milliseconds(upstream.request_timeout)};
        } else {
            result.error = {Errc::upstream_reset,
                            "sending the request to " + name + " failed: " + ec.message()};
        }
        co_return;
    }

    // Interim 1xx answers (100 Continue, 103 Early Hints) precede the real one: skip them, or
    // the real answer would stay in the connection and reach the next request.
    std::unique_ptr<UpstreamBodyParser> parser;
    std::size_t received = 0;
    for (int interim = 0; interim < 8; ++interim) {
        parser = std::make_unique<UpstreamBodyParser>();
        parser->header_limit(64 * 1024);
        parser->body_limit(upstream.max_response_bytes);
        if (request.method == http::verb::head) parser->skip(true);
        received += co_await http::async_read_header(connection.stream, connection.buffer, *parser,
                                                     asio::redirect_error(use_task, ec));
        ec = connection.stream.result(ec);
        // Beast 1.74 checks Content-Length against body_limit only when the body does not
        // arrive in the same read as the head, i.e. almost never: check it here.
        // Not for HEAD: its Content-Length is what a GET would get, and no body follows.
        if (!ec && request.method != http::verb::head && parser->content_length() &&
            *parser->content_length() > upstream.max_response_bytes) {
            ec = http::error::body_limit;
        }
        if (!ec && !is_valid_upstream_status(parser->get().result_int())) {
            result.error = {Errc::upstream_bad_response,
                            name + " sent an invalid HTTP response: status " +
                                std::to_string(parser->get().result_int()) +
                                " (a response's status is 100 to 599, and never 101 here: the "
                                "gateway asks for no protocol upgrade)"};
            co_return;
        }
        if (ec || parser->get().result_int() >= 200) break;
    }
    if (!ec && parser->get().result_int() < 200) {
        result.error = {Errc::upstream_bad_response, name + " sent only interim (1xx) responses"};
        co_return;
    }
    const unsigned status = ec ? 0 : parser->get().result_int();
    // Successes are buffered up to response_buffer_bytes and streamed past it. Errors are
    // buffered up to the same bound: only an excerpt of them reaches the client anyway.
    std::string body;
    const std::size_t limit = upstream.response_buffer_bytes;
    if (!ec) ec = take_buffered_body(connection, *parser, body, limit);
    if (!ec && !parser->is_done() && body.size() < limit) {
        ec = co_await read_body_up_to(connection, *parser, body, limit);
    }
    if (ec) {
        result.nothing_received = received == 0 && !parser->got_some();
        result.error = read_error(ec, result.nothing_received, upstream, name);
        co_return;
    }
    const bool complete = parser->is_done();
    result.keep_alive = complete && parser->get().keep_alive();
    if (const auto length = parser->content_length()) result.content_length = *length;
    result.answered = true;
    answer.base() = std::move(parser->get().base());
    answer.body() = std::move(body);
    // Only an answer that passes unchanged can be streamed: any other is normalised from its body.
    if (!complete && passes_unchanged(static_cast<int>(status))) result.parser = std::move(parser);
}

}  // namespace

std::shared_ptr<ConnectionPool> Forwarder::pool_for(const UpstreamConfig& upstream,
                                                    const Endpoint& endpoint) {
    auto& pool = pools_[endpoint.pool_key];
    if (!pool) {
        const asio::ip::tcp::endpoint address(asio::ip::make_address(endpoint.address), endpoint.port);
        std::string name = "upstream " + upstream.name;
        std::unique_ptr<Connector> connector;
        if (upstream.tls) {
            connector = std::make_unique<TlsConnector>(name, address, upstream.connect_timeout,
                                                       upstream.tls, endpoint.host);
        } else {
            connector = std::make_unique<TcpConnector>(name, address, upstream.connect_timeout);
        }
        pool = std::make_shared<ConnectionPool>(
            executor_, std::move(name), std::move(connector),
            std::min(upstream.connect_timeout, upstream.request_timeout), upstream.pool_size);
    }
    return pool;
}

void Forwarder::retain_only(const Config& config) {
    std::unordered_map<std::string, std::shared_ptr<ConnectionPool>> kept;
    for (const auto& upstream : config.upstreams) {
        for (const auto& endpoint : upstream.endpoints) {
            const std::string& key = endpoint.pool_key;
            if (auto it = pools_.find(key); it != pools_.end()) kept.emplace(key, it->second);
        }
    }
    pools_ = std::move(kept);
}

Task<Status> Forwarder::forward(const UpstreamConfig& upstream, const UpstreamRequest& request,
                                UpstreamReply& reply) {
    // Round-robin over several endpoints; one needs no turn.
    const std::size_t turn =
        upstream.endpoints.size() == 1 ? 0 : next_endpoint_[upstream.name]++;
    // A copy, not a reference: a reload may drop the pool from the table while we wait.
    const Endpoint& endpoint = upstream.endpoints[turn % upstream.endpoints.size()];
    reply.endpoint = &endpoint;
    const std::shared_ptr<ConnectionPool> pool = pool_for(upstream, endpoint);
    const auto deadline = Clock::now() + upstream.request_timeout;
    for (int attempt = 0;; ++attempt) {
        const auto started = Clock::now();
        std::optional<ConnectionPool::Lease> lease;
        if (attempt == 0) lease = pool->take_idle();  // the usual case, no waiting
        if (!lease) {
            auto acquired = co_await pool->acquire(attempt > 0, deadline);
            if (!acquired) {
                metrics_.count_upstream(upstream.name, Clock::now() - started, &acquired.error().errc);
                co_return std::move(acquired).error();
            }
            lease = std::move(*acquired);
        }
        Exchange result;
        co_await exchange(*lease->connection, request, upstream, pool->name(), deadline,
                          reply.response, result);
        metrics_.count_upstream(upstream.name, Clock::now() - started,
                                result.answered ? nullptr : &result.error.errc);
        if (result.answered) {
            if (result.parser) {
                reply.rest = std::make_unique<StreamingBody>(
                    pool, std::move(lease->connection), std::move(result.parser),
                    std::move(reply.response.body()), result.content_length,
                    /*upstream_keep_alive=*/reply.response.keep_alive(), upstream.request_timeout);
                reply.response.body().clear();
            } else {
                pool->release(std::move(lease->connection), result.keep_alive);
            }
            co_return Ok{};
        }
        pool->release(std::move(lease->connection), false);
        // A failure before any response byte came back (typically a pooled connection the
        // upstream closed while idle, or one reset under load) is tried once more on a fresh
        // connection. Only for idempotent methods: a PATCH may have been received and acted
        // upon, and must not be applied twice.
        const bool retry = attempt == 0 && result.nothing_received &&
                           is_idempotent(request.method) && Clock::now() < deadline;
        if (!retry) co_return std::move(result.error);
    }
}

std::size_t Forwarder::open_connections() const noexcept {
    std::size_t total = 0;
    for (const auto& [key, pool] : pools_) total += pool->open_connections();
    return total;
}

}  // namespace gateway

