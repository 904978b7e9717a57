#pragma once

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace gateway {

/// What the gateway changes in a request on its way upstream.
struct UpstreamHeadEdits {
    std::string_view target;          // the path (rewritten or as received) and query
    std::string_view client_address;  // appended to X-Forwarded-For
    std::string_view request_id;      // the only X-Request-Id the upstream sees
    std::string_view default_host;    // Host, when the client sent none: host and port
    std::uint16_t default_port = 0;
    bool send_content_length = false;  // a body, or a method that takes one (even empty)
    std::size_t body_size = 0;
    /// The only traceparent the upstream sees (the client's are dropped), and the tracestate
    /// that goes with it (empty: none is sent). Empty traceparent: the client's go on as they
    /// came (callers that do not trace).
    std::string_view traceparent{};
    std::string_view tracestate{};
};

/// Appends the request head as the upstream gets it, in one walk over the client's fields
/// (rewriting Beast's fields in place and then serialising them cost several tree searches and
/// allocations per header): the request line with `target` and HTTP/1.1 (keep-alive by
/// default); every field in its order except the hop-by-hop ones (RFC 9110 7.6.1: Connection
/// and every header it names, Keep-Alive, Proxy-*, TE, Trailer, Transfer-Encoding, Upgrade;
/// each hop decides its own connection handling), Expect (the gateway answered it and holds
/// the whole body), Content-Length, X-Forwarded-For and X-Request-Id (and traceparent and
/// tracestate when `edits.traceparent` replaces them); then X-Forwarded-For as one
/// comma-separated list with `client_address` appended, X-Request-Id, traceparent and
/// tracestate, Host when none was forwarded, and Content-Length when asked for.
void append_upstream_head(std::string& out, const boost::beast::http::request_header<>& request,
                          const UpstreamHeadEdits& edits);

/// How the body after a client response head is delimited.
enum class BodyFraming {
    length,       // Content-Length: body_size (none for 1xx, 204, 304 and answers to HEAD)
    chunked,      // Transfer-Encoding: chunked; the body is written in chunks after the head
    until_close,  // no length: the body ends with the connection (HTTP/1.0, length unknown)
};

/// What the gateway changes in a response head on its way to the client.
struct ClientHeadEdits {
    unsigned version = 11;            // the client's HTTP version
    std::string_view request_id;      // the only X-Request-Id the client sees
    std::size_t body_size = 0;        // BodyFraming::length: the whole body
    bool keep_alive = true;           // whether the client connection goes on
    /// An answer to HEAD: its Content-Length is the one a GET's body would have, so the
    /// head's own stays and none is stated from the (absent) body.
    bool answers_head = false;
    BodyFraming framing = BodyFraming::length;
};

/// The one writer of client response heads: the gateway's own answers (render_error), an
/// upstream's buffered answer and a streamed one all leave through it, so every client head
/// gets the same edits, made in one walk over the head's fields: the status line in the
/// client's version with the head's status and reason; every field in its order except the
/// hop-by-hop ones (as append_upstream_head drops them), X-Request-Id and Content-Length; then X-Request-Id,
/// the body's framing (`edits.framing`), and Connection where the version's default is not
/// what happens (close for HTTP/1.1, keep-alive for HTTP/1.0; never keep-alive until_close).
void append_client_head(std::string& out, const boost::beast::http::response_header<>& head,
                        const ClientHeadEdits& edits);

/// Makes request ids: keeps a sane client-supplied X-Request-Id (so a trace spans hops),
/// otherwise generates a random UUID v4. One per worker; not thread-safe by design.
class RequestIdSource {
public:
    RequestIdSource();

    /// The id this request goes by: the client's X-Request-Id when it sent exactly one sane
    /// one, a new one otherwise. It replaces whatever the client sent, upstream and back.
    std::string ensure(const boost::beast::http::fields& fields);

    std::string generate();

private:
    std::uint64_t next_random();

    // SplitMix64: ids need to be unique and unguessable enough for tracing, not cryptographic;
    // it is seeded from std::random_device and costs a few instructions per 64 bits.
    std::uint64_t state_;
};

/// Header name the request id travels in, both ways.
inline constexpr std::string_view kRequestIdHeader = "X-Request-Id";

}  // namespace gateway
