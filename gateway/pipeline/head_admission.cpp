#include "pipeline/head_admission.hpp"

#include <boost/beast/http/error.hpp>

#include <limits>
#include <string>

#include "pipeline/framing_checks.hpp"

namespace gateway {

namespace http = boost::beast::http;

HeadScan scan_head(std::string_view bytes, const Limits& limits) {
    HeadScan result;
    if (auto problem = inspect_raw_head(bytes)) {
        result.outcome = HeadScan::Outcome::refused;
        result.refusal = std::move(problem);
    } else if (const auto end = find_head_end(bytes); end && *end <= limits.max_header_bytes) {
        result.outcome = HeadScan::Outcome::complete;
        result.size = *end;
    } else if (end || bytes.size() >= limits.max_header_bytes) {
        result.outcome = HeadScan::Outcome::refused;
        result.refusal = Error{Errc::header_too_large, "the request head is over " +
                                                           std::to_string(limits.max_header_bytes) +
                                                           " bytes"};
    }
    return result;
}

Error parse_error(const boost::system::error_code& ec) {
    return Error{Errc::malformed_request, "cannot parse the request: " + ec.message()};
}

Status parse_head(RequestParser& parser, std::string_view head, const Limits& limits) {
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    // The route decides the body limit once the head is checked; until then Beast must
    // not refuse a large Content-Length itself (our 413 names the limit and the route).
    // Not boost::none: Beast 1.74 compares Content-Length against the optional itself,
    // and every number is greater than an empty optional.
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    parser.eager(false);
    boost::system::error_code ec;
    parser.put(boost::asio::const_buffer(head.data(), head.size()), ec);
    if (!ec && !parser.is_header_done()) ec = http::error::need_more;
    if (ec) return parse_error(ec);
    return Ok{};
}

}  // namespace gateway
