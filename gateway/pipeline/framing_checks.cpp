#include "pipeline/framing_checks.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <string>

#include "core/text.hpp"

namespace gateway {

namespace http = boost::beast::http;

namespace {

Error framing(std::string detail) { return Error{Errc::malformed_request, std::move(detail)}; }

/// The fields that frame a request, found in one walk over the header (a lookup per field
/// would search Beast's case-insensitive index once for each).
struct FramingFields {
    std::size_t hosts = 0, lengths = 0, encodings = 0;
    std::string_view host, length, encoding;  // the first of each
};

FramingFields framing_fields(const http::request_header<>& header) {
    FramingFields found;
    const auto note = [](std::size_t& count, std::string_view& first, std::string_view value) {
        if (count++ == 0) first = value;
    };
    for (const auto& field : header) {
        switch (field.name()) {
            case http::field::host: note(found.hosts, found.host, field.value()); break;
            case http::field::content_length: note(found.lengths, found.length, field.value()); break;
            case http::field::transfer_encoding:
                note(found.encodings, found.encoding, field.value());
                break;
            default: break;
        }
    }
    return found;
}

bool is_unreserved(char c) noexcept {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

bool is_sub_delim(char c) noexcept { return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos; }

bool is_hex(char c) noexcept { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

std::string describe_char(char c) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte > 0x20 && byte < 0x7F) return std::string("'") + c + "'";
    static constexpr char kHex[] = "0123456789ABCDEF";
    return std::string("byte 0x") + kHex[byte >> 4] + kHex[byte & 0xF];
}

/// Why `name` is not RFC 3986's reg-name (which also covers IPv4address), or nothing.
std::optional<std::string> reg_name_problem(std::string_view name) {
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        if (is_unreserved(c) || is_sub_delim(c)) continue;
        if (c == '%' && i + 2 < name.size() && is_hex(name[i + 1]) && is_hex(name[i + 2])) {
            i += 2;
            continue;
        }
        if (c == '%') return std::string("'%' not followed by two hex digits");
        return describe_char(c) + " is not allowed in a host name";
    }
    return std::nullopt;
}

/// Why `literal` (between '[' and ']') is neither an IPv6 address nor an IPvFuture, or nothing.
std::optional<std::string> ip_literal_problem(std::string_view literal) {
    if (!literal.empty() && (literal.front() == 'v' || literal.front() == 'V')) {
        // IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
        const std::size_t dot = literal.find('.');
        const std::string_view version = literal.substr(1, dot == std::string_view::npos ? dot : dot - 1);
        const std::string_view rest = dot == std::string_view::npos ? std::string_view() : literal.substr(dot + 1);
        const bool valid = !version.empty() && std::all_of(version.begin(), version.end(), is_hex) &&
                           !rest.empty() && std::all_of(rest.begin(), rest.end(), [](char c) {
                               return is_unreserved(c) || is_sub_delim(c) || c == ':';
                           });
        if (!valid) return std::string("[" + std::string(literal) + "] is not a valid IPvFuture literal");
        return std::nullopt;
    }
    in6_addr address{};
    const std::string text(literal.substr(0, 64));
    if (literal.size() > 64 || inet_pton(AF_INET6, text.c_str(), &address) != 1) {
        return "[" + text + "] is not an IPv6 address";
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> host_field_problem(std::string_view value) {
    std::string_view port;
    if (!value.empty() && value.front() == '[') {
        const std::size_t close = value.find(']');
        if (close == std::string_view::npos) return std::string("the IP literal's '[' is never closed");
        if (auto problem = ip_literal_problem(value.substr(1, close - 1))) return problem;
        const std::string_view after = value.substr(close + 1);
        if (!after.empty() && after.front() != ':') {
            return describe_char(after.front()) + " after the IP literal, where only \":port\" may follow";
        }
        port = after.empty() ? after : after.substr(1);
    } else {
        const std::size_t colon = value.find(':');
        if (auto problem = reg_name_problem(value.substr(0, colon))) return problem;
        if (colon != std::string_view::npos) port = value.substr(colon + 1);
    }
    if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return "the port " + quoted_excerpt(port) + " is not digits";
    }
    return std::nullopt;
}

std::optional<std::size_t> find_head_end(std::string_view bytes) noexcept {
    std::size_t from = 0;
    while (true) {
        const std::size_t lf = bytes.find('\n', from);
        if (lf == std::string_view::npos) return std::nullopt;
        std::size_t next = lf + 1;
        if (next < bytes.size() && bytes[next] == '\r') ++next;
        if (next < bytes.size() && bytes[next] == '\n') return next + 1;
        if (next >= bytes.size()) return std::nullopt;
        from = lf + 1;
    }
}

std::optional<Error> inspect_raw_head(std::string_view head) {
    // The method comes first and is a short token: anything else (a TLS ClientHello, binary
    // noise) is refused on its first bytes instead of waiting for a line end that never comes.
    const std::size_t space = head.find(' ');
    const std::string_view method = head.substr(0, std::min(space, kMaxMethodLength + 1));
    const bool token = std::all_of(method.begin(), method.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    });
    if (!token || method.size() > kMaxMethodLength || space == 0) {
        return framing("not an HTTP/1.x request: it starts with " + quoted_excerpt(head, 16));
    }
    const std::size_t line_end = head.find('\n');
    const std::size_t line_length = line_end == std::string_view::npos ? head.size() : line_end;
    if (line_length > kMaxRequestLine) {
        return Error{Errc::uri_too_long, "the request line is over " +
                                             std::to_string(kMaxRequestLine) + " bytes"};
    }
    if (line_end == std::string_view::npos) return std::nullopt;
    // A header line that starts with SP or HTAB continues the previous one (obs-fold, RFC 9112
    // 5.2). Beast unfolds it; a backend may not: refuse it rather than guess.
    // Line by line (memchr), up to the blank line that ends the head: the body is not looked at.
    for (std::size_t lf = line_end; lf != std::string_view::npos && lf + 1 < head.size();
         lf = head.find('\n', lf + 1)) {
        const char next = head[lf + 1];
        if (next == '\n' || (next == '\r' && lf + 2 < head.size() && head[lf + 2] == '\n')) break;
        if (next == ' ' || next == '\t') {
            return framing("header line " + quoted_excerpt(head.substr(lf + 1, 40)) +
                           " continues the previous one (obs-fold), which is not allowed");
        }
    }
    return std::nullopt;
}

Result<std::string_view> check_framing(const http::request_header<>& header) {
    const std::string_view method = header.method_string();
    if (std::any_of(method.begin(), method.end(), [](char c) { return c >= 'a' && c <= 'z'; })) {
        return framing("method " + quoted_excerpt(method) +
                       ": methods are case-sensitive and upper case");
    }

    const FramingFields fields = framing_fields(header);
    const std::size_t hosts = fields.hosts;
    if (hosts > 1) return framing("header Host: given " + std::to_string(hosts) + " times");
    if (hosts == 0 && header.version() == 11) return framing("header Host: required in HTTP/1.1");
    if (hosts == 1) {
        if (auto problem = host_field_problem(fields.host)) {
            return framing("header Host: expected host[:port] (RFC 3986), got " +
                           quoted_excerpt(fields.host) + ": " + *problem);
        }
    }

    const std::size_t lengths = fields.lengths;
    if (lengths > 1) {
        return framing("header Content-Length: given " + std::to_string(lengths) + " times");
    }
    if (lengths == 1) {
        const std::string_view value = fields.length;
        if (value.empty() || !std::all_of(value.begin(), value.end(),
                                          [](char c) { return c >= '0' && c <= '9'; })) {
            return framing("header Content-Length: expected digits, got " + quoted_excerpt(value));
        }
    }

    const std::size_t encodings = fields.encodings;
    if (encodings > 0) {
        const std::string_view value = fields.encoding;
        if (encodings > 1 || !iequals(trim(value), "chunked")) {
            return framing("header Transfer-Encoding: only \"chunked\" is accepted, got " +
                           quoted_excerpt(value) + (encodings > 1 ? " and more" : ""));
        }
        if (header.version() != 11) {
            return framing("header Transfer-Encoding: not allowed in HTTP/1.0");
        }
        if (lengths > 0) {
            return framing("headers Content-Length and Transfer-Encoding together");
        }
    }

    const std::string_view target = header.target();
    if (!target.empty() && target.front() == '/') return target;
    // Absolute-form (RFC 9112 3.2.2) is fine when it names the host we were asked for.
    for (const std::string_view scheme : {"http://", "https://"}) {
        if (target.size() <= scheme.size() || !iequals(target.substr(0, scheme.size()), scheme)) {
            continue;
        }
        const std::string_view rest = target.substr(scheme.size());
        const std::size_t slash = rest.find('/');
        const std::string_view authority = rest.substr(0, slash);
        const std::string_view host = fields.host;
        if (!iequals(authority, host)) {
            return framing("request target " + quoted_excerpt(target, 128) +
                           " names another host than Host " + quoted_excerpt(host));
        }
        return slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
    }
    return framing("request target must be a path starting with '/', got " +
                   quoted_excerpt(target, 128));
}

}  // namespace gateway
