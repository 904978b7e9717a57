#include "response_util.hpp"

#include <cctype>
#include <utility>

#include "json_bodies.hpp"

namespace mock_backend {

namespace {

/// RFC 9110 6.4.1: 1xx, 204 and 304 never carry content; Beast would also refuse to frame a
/// body for them. Works on the number: result() is status::unknown for an unregistered code
/// such as an x-mock-status of 299.
bool status_forbids_body(unsigned code) {
    return code < 200 || code == 204 || code == 304;
}

/// Spring-style status name ("NOT_FOUND") derived from the reason phrase, which is what the
/// real backends put in ErrorMessage.status.
std::string status_name(http::status status) {
    const auto reason = http::obsolete_reason(status);
    std::string name;
    name.reserve(reason.size());
    for (const char c : reason) {
        name.push_back(c == ' ' || c == '-'
                           ? '_'
                           : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
    return name;
}

}  // namespace

Response make_response(http::status status, std::string_view content_type, std::string body) {
    Response res{status, 11};
    res.set(http::field::server, "mock-backend");
    if (!content_type.empty()) {
        res.set(http::field::content_type,
                beast::string_view{content_type.data(), content_type.size()});
    }
    res.body() = std::move(body);
    return res;
}

void set_status(Response& res, unsigned code) {
    res.result(code);
    if (http::int_to_status(code) == http::status::unknown) res.reason("Mock Status");
}

void finalize(Response& res, const Request& req) {
    // Answer in the client's version so an HTTP/1.0 client gets HTTP/1.0 keep-alive rules.
    res.version(req.version());
    if (status_forbids_body(res.result_int())) {
        res.body().clear();
        res.erase(http::field::content_type);
        res.content_length(boost::none);
    } else {
        res.content_length(res.body().size());
    }
    res.keep_alive(req.keep_alive());
    if (req.method() == http::verb::head) {
        // Content-Length stays: it tells the client what a GET would have returned.
        res.body().clear();
    }
}

Response error_message_response(http::status status, std::string_view message,
                                std::string_view detail) {
    return make_response(
        status, "application/json",
        error_message_json(static_cast<int>(status), status_name(status), message, detail));
}

}  // namespace mock_backend
