#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string_view>

#include "core/error.hpp"
#include "core/error_message.hpp"

namespace gateway {

using ClientResponse = boost::beast::http::response<boost::beast::http::string_body>;

/// The one place an error becomes an HTTP response: the ErrorMessage JSON body,
/// `application/json`, the error's own headers (405's Allow) and the request id.
ClientResponse render_error(const ErrorMessage& message, unsigned http_version,
                            std::string_view request_id,
                            const std::vector<std::pair<std::string, std::string>>& headers = {});

inline ClientResponse render_error(const Error& error, unsigned http_version,
                                   std::string_view request_id) {
    return render_error(ErrorMessage::from(error), http_version, request_id, error.headers);
}

}  // namespace gateway
