#include <catch2/catch.hpp>

#include "pipeline/error_responder.hpp"

using namespace gateway;
namespace http = boost::beast::http;

TEST_CASE("errors render as application/json ErrorMessage with the request id") {
    Error error{Errc::method_not_allowed, "nope"};
    error.headers.emplace_back("Allow", "GET, PUT");
    const auto response = render_error(error, 11, "req-1");
    CHECK(response.result_int() == 405);
    CHECK(response[http::field::content_type] == "application/json");
    CHECK(response["Allow"] == "GET, PUT");
    CHECK(response["X-Request-Id"] == "req-1");
    CHECK(response[http::field::content_length] == std::to_string(response.body().size()));
    CHECK(response.body() ==
          R"({"code":40501,"status":"METHOD_NOT_ALLOWED","message":"Method not allowed on this path","detailMsg":"nope"})");
}
