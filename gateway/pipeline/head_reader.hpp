#pragma once

#include <boost/beast/http/message.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "pipeline/request_checks.hpp"

namespace gateway {

/// Takes what the checks need from a parsed request head. Several x-auth-roles lines are one
/// comma-separated list (RFC 9110 5.3): they are joined into `roles_storage`, which must
/// outlive the answer (one line is used in place). No Asio here: the fuzz target for raw HTTP
/// bytes uses it too.
RequestHead read_request_head(const boost::beast::http::request_header<>& header,
                              std::optional<std::uint64_t> content_length, bool chunked,
                              std::string& roles_storage);

}  // namespace gateway
