#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "support/http_client.hpp"

namespace test_support {

/// The documented error body, parsed strictly: exactly code (int), status, message and
/// detailMsg (strings). `problem` says why a body is not one.
struct ErrorBody {
    bool valid = false;
    std::string problem;
    int code = 0;
    std::string status;
    std::string message;
    std::string detail;
};

ErrorBody parse_error_body(std::string_view body);

/// What mock-backend's `x-mock-echo: 1` reports about the request it received.
struct EchoedRequest {
    bool valid = false;
    std::string method;
    std::string target;
    Headers headers;
    std::string body;

    std::optional<std::string> header(std::string_view name) const;
    std::size_t header_count(std::string_view name) const;
};

EchoedRequest parse_echo(std::string_view body);

/// 8-4-4-4-12 lower-case hex with version nibble 4 and an RFC 4122 variant nibble (8, 9, a, b).
bool is_uuid_v4(std::string_view text);

/// True when `text` is a JSON document (RapidJSON, strict).
bool is_json(std::string_view text);

}  // namespace test_support

/// Checks that `response` is a gateway error: the HTTP status, an application/json
/// ErrorMessage with the given code and status name, a non-empty message, and an
/// X-Request-Id. Evaluates to the parsed ErrorBody for further checks on its detail.
/// A macro so that failures point at the test's line.
#define EXPECT_ERROR(response, http_status, error_code, status_name)                          \
    [&](const ::test_support::HttpResponse& expect_error_response_) {                          \
        INFO("response:\n" << expect_error_response_.describe());                             \
        CHECK(expect_error_response_.status == (http_status));                                \
        CHECK(expect_error_response_.header("Content-Type").value_or("") == "application/json"); \
        CHECK(expect_error_response_.header("X-Request-Id").has_value());                     \
        auto expect_error_body_ = ::test_support::parse_error_body(expect_error_response_.body); \
        INFO("error body problem: " << expect_error_body_.problem);                           \
        CHECK(expect_error_body_.valid);                                                       \
        CHECK(expect_error_body_.code == (error_code));                                        \
        CHECK(expect_error_body_.status == (status_name));                                     \
        CHECK_FALSE(expect_error_body_.message.empty());                                       \
        return expect_error_body_;                                                             \
    }(response)
