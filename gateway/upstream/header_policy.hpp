#pragma once

#include <boost/beast/http/fields.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace gateway {

/// Removes the hop-by-hop headers (RFC 9110 7.6.1): Connection and every header it names,
/// Keep-Alive, Proxy-*, TE, Trailer, Transfer-Encoding, Upgrade. Applied to requests going
/// up and responses coming down: each hop decides its own connection handling.
void strip_hop_by_hop(boost::beast::http::fields& fields);

/// Appends the client's address to X-Forwarded-For (one comma-separated list).
void append_forwarded_for(boost::beast::http::fields& fields, std::string_view client_address);

/// Makes request ids: keeps a sane client-supplied X-Request-Id (so a trace spans hops),
/// otherwise generates a random UUID v4. One per worker; not thread-safe by design.
class RequestIdSource {
public:
    RequestIdSource();

    /// The id this request goes by; also written into `fields` when it was generated.
    std::string ensure(boost::beast::http::fields& fields);

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
