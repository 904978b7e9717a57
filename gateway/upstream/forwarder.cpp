#include "upstream/forwarder.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include "io/tls_error.hpp"
#include "io/write_message.hpp"
#include "upstream/answer_status.hpp"
#include "upstream/endpoint_picker.hpp"

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

Forwarder::Forwarder(Executor executor, WorkerMetrics& metrics, UpstreamStates& states,
                     Post post_here)
    : executor_(std::move(executor)),
      metrics_(metrics),
      states_(states),
      post_here_(std::move(post_here)),
      random_state_(reinterpret_cast<std::uintptr_t>(this) ^
                    static_cast<std::uint64_t>(Clock::now().time_since_epoch().count())) {}

Forwarder::Forwarder(Executor executor, WorkerMetrics& metrics)
    : executor_(executor),
      metrics_(metrics),
      own_states_(std::make_unique<UpstreamStates>()),
      states_(*own_states_),
      post_here_([executor](std::function<void()> task) { asio::post(executor, std::move(task)); }),
      random_state_(reinterpret_cast<std::uintptr_t>(this) | 1) {}

std::uint64_t Forwarder::next_random() noexcept {
    // xorshift64*: the picks of least_request need speed, not secrecy.
    random_state_ ^= random_state_ >> 12;
    random_state_ ^= random_state_ << 25;
    random_state_ ^= random_state_ >> 27;
    return random_state_ * 0x2545F4914F6CDD1DULL;
}

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

std::shared_ptr<Forwarder::UpstreamSlot> Forwarder::make_slot(const UpstreamConfig& upstream,
                                                             bool adopt) {
    auto slot = std::make_shared<UpstreamSlot>();
    slot->state = states_.get(upstream.name);
    slot->endpoints = slot->state->endpoints_for(upstream, adopt);
    for (const auto& endpoint : upstream.endpoints) slot->pools.push_back(pool_for(upstream, endpoint));
    // One queue per upstream and worker, whatever the config version: waiting requests of
    // an older snapshot and of the new one wait in the same line.
    for (const auto& kept : slots_) {
        if (kept->state == slot->state) slot->queue = kept->queue;
    }
    if (!slot->queue) slot->queue = std::make_shared<AdmissionQueue>(executor_, slot->state, post_here_);
    slot->turn = &turns_[slot->state.get()];
    return slot;
}

void Forwarder::retain_only(std::shared_ptr<const Config> config) {
    std::unordered_map<std::string, std::shared_ptr<ConnectionPool>> kept;
    for (const auto& upstream : config->upstreams) {
        for (const auto& endpoint : upstream.endpoints) {
            const std::string& key = endpoint.pool_key;
            if (auto it = pools_.find(key); it != pools_.end()) kept.emplace(key, it->second);
        }
    }
    pools_ = std::move(kept);
    std::vector<std::shared_ptr<UpstreamSlot>> slots;
    for (const auto& upstream : config->upstreams) slots.push_back(make_slot(upstream, true));
    slots_ = std::move(slots);
    config_ = std::move(config);
}

Task<Status> Forwarder::forward(const UpstreamConfig& upstream, const UpstreamRequest& request,
                                UpstreamReply& reply) {
    // The config in force has its slots ready; a request of an older snapshot (one that
    // straddles a reload) makes its own for the while. Either is held by the request, not
    // borrowed from slots_: a reload replaces slots_ while requests wait on the upstream, and a
    // stopping worker drops the forwarder before their frames.
    std::shared_ptr<UpstreamSlot> slot;
    const UpstreamConfig* first = config_ ? config_->upstreams.data() : nullptr;
    if (first && &upstream >= first && &upstream < first + slots_.size()) {
        slot = slots_[static_cast<std::size_t>(&upstream - first)];
    } else {
        slot = make_slot(upstream, false);
    }
    UpstreamState& state = *slot->state;

    std::optional<InFlightSlot> in_flight;
    if (upstream.max_in_flight > 0) {
        in_flight = slot->queue->try_admit(upstream);
        if (!in_flight) {
            auto admitted = co_await slot->queue->admit(upstream);
            if (!admitted) co_return std::move(admitted).error();
            in_flight.emplace(std::move(*admitted));
        }
    }
    const auto admitted_at = Clock::now();
    if (in_flight) in_flight->started(admitted_at);
    const auto deadline = admitted_at + upstream.request_timeout;
    if (upstream.retry_budget_percent) state.retry_budget().count_request(admitted_at);
    std::optional<std::size_t> avoid;
    for (int attempt = 0;; ++attempt) {
        const auto started = attempt == 0 ? admitted_at : Clock::now();
        const EndpointChoice choice = pick_endpoint(slot->endpoints, upstream.load_balancing,
                                                    *slot->turn, next_random(), started, avoid);
        if (choice.panic) state.panics.fetch_add(1, std::memory_order_relaxed);
        EndpointState& endpoint_state = *slot->endpoints[choice.index];
        reply.endpoint = &upstream.endpoints[choice.index];
        // A copy, not a reference: a reload may drop the pool from the table while we wait.
        const std::shared_ptr<ConnectionPool> pool = slot->pools[choice.index];
        endpoint_state.in_flight.fetch_add(1, std::memory_order_relaxed);
        struct Leaving {
            EndpointState& endpoint;
            ~Leaving() { endpoint.in_flight.fetch_sub(1, std::memory_order_relaxed); }
        } leaving{endpoint_state};

        // A traced request: this attempt's own span id in a copy of the head (only traced
        // requests pay for the copy).
        std::optional<UpstreamRequest> traced;
        UpstreamAttempt* record = nullptr;
        if (request.attempts) {
            record = &request.attempts->emplace_back();
            record->endpoint = reply.endpoint;
            record->start = started;
            span_ids_.fill_span_id(record->span_id);
            traced.emplace(request);
            traced->attempts = nullptr;
            if (request.traceparent_span_at != std::string::npos &&
                request.traceparent_span_at + 16 <= traced->head.size()) {
                traced->head.replace(request.traceparent_span_at, 16, record->span_id.data(), 16);
            }
        }
        const UpstreamRequest& sent = traced ? *traced : request;

        std::optional<ConnectionPool::Lease> lease;
        if (attempt == 0) lease = pool->take_idle();  // the usual case, no waiting
        Exchange result;
        bool connected = true;
        if (!lease) {
            auto acquired = co_await pool->acquire(attempt > 0, deadline);
            if (acquired) {
                lease = std::move(*acquired);
            } else {
                connected = false;
                result.error = std::move(acquired).error();
                result.nothing_received = true;
            }
        }
        if (connected) {
            co_await exchange(*lease->connection, sent, upstream, pool->name(), deadline,
                              reply.response, result);
        }
        if (record) {
            record->end = Clock::now();
            if (result.answered) {
                record->status = reply.response.result_int();
            } else {
                record->failure = result.error.errc;
            }
        }
        metrics_.count_upstream(upstream.name, Clock::now() - started,
                                result.answered ? nullptr : &result.error.errc);
        if (result.answered) {
            const unsigned status = reply.response.result_int();
            if (status >= 500) {
                state.record_failure(endpoint_state, upstream,
                                     "answered " + std::to_string(status), Clock::now());
            } else {
                UpstreamState::record_success(endpoint_state);
            }
            if (result.parser) {
                reply.rest = std::make_unique<StreamingBody>(
                    pool, std::move(lease->connection), std::move(result.parser),
                    std::move(reply.response.body()), result.content_length,
                    /*upstream_keep_alive=*/reply.response.keep_alive(), upstream.request_timeout);
                if (in_flight) reply.rest->hold(std::move(*in_flight));
                reply.response.body().clear();
            } else {
                pool->release(std::move(lease->connection), result.keep_alive);
            }
            co_return Ok{};
        }
        if (connected) pool->release(std::move(lease->connection), false);
        state.record_failure(endpoint_state, upstream, result.error.detail, Clock::now());
        // A failure before any response byte came back (typically a pooled connection the
        // upstream closed while idle, or one reset under load) is tried once more on a fresh
        // connection. Only for idempotent methods: a PATCH may have been received and acted
        // upon, and must not be applied twice. A connection that could not be made carried
        // nothing: any method may try another endpoint.
        const bool may_retry = connected ? result.nothing_received && is_idempotent(request.method)
                                         : upstream.endpoints.size() > 1;
        if (attempt > 0 || !may_retry || Clock::now() >= deadline) co_return std::move(result.error);
        if (upstream.retry_budget_percent &&
            !state.retry_budget().try_spend(*upstream.retry_budget_percent, Clock::now())) {
            state.retry_budget_exhausted.fetch_add(1, std::memory_order_relaxed);
            co_return std::move(result.error);
        }
        avoid = choice.index;
    }
}

std::size_t Forwarder::open_connections() const noexcept {
    std::size_t total = 0;
    for (const auto& [key, pool] : pools_) total += pool->open_connections();
    return total;
}

}  // namespace gateway

