#pragma once

// The message types shared by the pure (no I/O) parts of the mock. Only Beast's message
// headers are pulled in here so that the route and fault logic compiles without Asio.
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string_view>

namespace mock_backend {

namespace beast = boost::beast;
namespace http = boost::beast::http;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

/// Beast's string_view is boost::string_view unless BOOST_BEAST_USE_STD_STRING_VIEW is set;
/// converting explicitly keeps this code correct under either configuration.
inline std::string_view to_std(beast::string_view sv) noexcept {
    return {sv.data(), sv.size()};
}

}  // namespace mock_backend
