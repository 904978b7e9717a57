#include "upstream/header_policy.hpp"

#include <boost/container/small_vector.hpp>

#include <algorithm>
#include <iterator>
#include <vector>

#include "core/text.hpp"
#include "io/head_writer.hpp"

namespace gateway {

namespace http = boost::beast::http;

namespace {

bool is_hop_by_hop(const http::fields::value_type& field) {
    switch (field.name()) {
        case http::field::keep_alive:
        case http::field::te:
        case http::field::trailer:
        case http::field::transfer_encoding:
        case http::field::upgrade:
        case http::field::proxy_authenticate:
        case http::field::proxy_authorization:
        case http::field::proxy_connection:
            return true;
        default:
            break;
    }
    // Any other Proxy-* header (Proxy-Status, vendor ones) is addressed to this hop as well.
    const std::string_view name = field.name_string();
    return name.size() > 6 && iequals(name.substr(0, 6), "proxy-");
}

using NamedTokens = boost::container::small_vector<std::string_view, 8>;

/// The header names the Connection fields list (views into those fields); answers whether
/// there was any Connection field.
bool connection_tokens(const http::fields& fields, NamedTokens& named) {
    bool any_connection = false;
    for (const auto& field : fields) {
        if (field.name() != http::field::connection) continue;
        any_connection = true;
        std::string_view tokens = field.value();
        while (!tokens.empty()) {
            const std::size_t comma = tokens.find(',');
            const auto token = trim(tokens.substr(0, comma));
            if (!token.empty()) named.push_back(token);
            if (comma == std::string_view::npos) break;
            tokens.remove_prefix(comma + 1);
        }
    }
    return any_connection;
}

/// Hop-by-hop by its name, or named by Connection (which is dropped as well).
bool is_dropped_hop(const http::fields::value_type& field, const NamedTokens& named) {
    return field.name() == http::field::connection || is_hop_by_hop(field) ||
           std::any_of(named.begin(), named.end(), [&](std::string_view name) {
               return iequals(field.name_string(), name);
           });
}

}  // namespace

void append_upstream_head(std::string& out, const http::request_header<>& request,
                          const UpstreamHeadEdits& edits) {
    out += request.method_string();
    out += ' ';
    out += edits.target;
    out += " HTTP/1.1\r\n";
    NamedTokens named;
    connection_tokens(request, named);
    // Earlier X-Forwarded-For values, joined; only a chained request has any.
    std::string forwarded_for;
    bool host_sent = false;
    for (const auto& field : request) {
        const http::field name = field.name();
        if (name == http::field::expect || name == http::field::content_length) continue;
        if (name == http::field::unknown) {
            const std::string_view text = field.name_string();
            if (iequals(text, "X-Forwarded-For")) {
                if (!forwarded_for.empty()) forwarded_for += ", ";
                forwarded_for += field.value();
                continue;
            }
            if (iequals(text, kRequestIdHeader)) continue;
            // (The length and first letter first: most unknown fields are neither.)
            if (!edits.traceparent.empty() && (text.size() == 11 || text.size() == 10) &&
                (text[0] | 0x20) == 't' &&
                (iequals(text, "traceparent") || iequals(text, "tracestate"))) {
                continue;
            }
        }
        if (is_dropped_hop(field, named)) continue;
        host_sent = host_sent || name == http::field::host;
        append_field(out, field.name_string(), field.value());
    }
    out += "X-Forwarded-For: ";
    if (!forwarded_for.empty()) {
        out += forwarded_for;
        out += ", ";
    }
    out += edits.client_address;
    out += "\r\n";
    append_field(out, kRequestIdHeader, edits.request_id);
    if (!edits.traceparent.empty()) {
        append_field(out, "traceparent", edits.traceparent);
        if (!edits.tracestate.empty()) append_field(out, "tracestate", edits.tracestate);
    }
    if (!host_sent) append_field(out, "Host", std::string(edits.default_host) + ":" +
                                                  std::to_string(edits.default_port));
    if (edits.send_content_length) append_field(out, "Content-Length", std::to_string(edits.body_size));
    out += "\r\n";
}

void append_client_head(std::string& out, const http::response_header<>& head,
                        const ClientHeadEdits& edits) {
    append_status_line(out, edits.version, head);
    NamedTokens named;
    connection_tokens(head, named);
    const bool states_length = edits.framing == BodyFraming::length;
    for (const auto& field : head) {
        const http::field name = field.name();
        if (name == http::field::content_length && !(edits.answers_head && states_length)) continue;
        if (name == http::field::unknown && iequals(field.name_string(), kRequestIdHeader)) continue;
        if (is_dropped_hop(field, named)) continue;
        append_field(out, field.name_string(), field.value());
    }
    append_field(out, kRequestIdHeader, edits.request_id);
    // No body, and so no length, for these (RFC 9110 8.6; Beast's prepare_payload agrees).
    const unsigned status = head.result_int();
    const bool bodiless = status < 200 || status == 204 || status == 304;
    bool keep_alive = edits.keep_alive;
    switch (edits.framing) {
        case BodyFraming::length:
            if (!bodiless && !edits.answers_head) {
                append_field(out, "Content-Length", std::to_string(edits.body_size));
            }
            break;
        case BodyFraming::chunked:
            out += "Transfer-Encoding: chunked\r\n";
            break;
        case BodyFraming::until_close:
            keep_alive = false;
            break;
    }
    if (edits.version >= 11 && !keep_alive) out += "Connection: close\r\n";
    if (edits.version < 11 && keep_alive) out += "Connection: keep-alive\r\n";
    out += "\r\n";
}

RequestIdSource::RequestIdSource() {
    std::random_device device;
    state_ = (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

std::uint64_t RequestIdSource::next_random() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

std::string RequestIdSource::generate() {
    static constexpr char kHex[] = "0123456789abcdef";
    std::uint8_t bytes[16];
    const std::uint64_t high = next_random();
    const std::uint64_t low = next_random();
    for (int i = 0; i < 8; ++i) {
        bytes[i] = static_cast<std::uint8_t>(high >> (56 - 8 * i));
        bytes[8 + i] = static_cast<std::uint8_t>(low >> (56 - 8 * i));
    }
    bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0F) | 0x40);  // version 4
    bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
    std::string id(36, '-');
    std::size_t at = 0;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) ++at;  // the dashes stay
        id[at++] = kHex[bytes[i] >> 4];
        id[at++] = kHex[bytes[i] & 0xF];
    }
    return id;
}

std::string RequestIdSource::ensure(const http::fields& fields) {
    std::string_view given;
    std::size_t count = 0;
    for (const auto& field : fields) {
        if (field.name() == http::field::unknown && iequals(field.name_string(), kRequestIdHeader) &&
            count++ == 0) {
            given = field.value();
        }
    }
    const bool sane = count == 1 && !given.empty() && given.size() <= 128 &&
                      std::all_of(given.begin(), given.end(), [](char c) {
                          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                                 c == '_' || c == '.' || c == ':';
                      });
    // Exactly one sane id is kept; anything else is replaced so logs stay trustworthy.
    return sane ? std::string(given) : generate();
}

}  // namespace gateway
