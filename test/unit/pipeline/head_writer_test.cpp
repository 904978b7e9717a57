#include <catch2/catch.hpp>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <sstream>

#include "pipeline/head_writer.hpp"

using namespace gateway;
namespace http = boost::beast::http;

namespace {

// What Beast's own serializer writes for the whole message.
template <bool isRequest>
std::string beast_wire(const http::message<isRequest, http::string_body>& message) {
    std::ostringstream out;
    out << message;
    return out.str();
}

template <bool isRequest>
std::string our_wire(const http::message<isRequest, http::string_body>& message) {
    std::string out;
    append_head(out, message.base());
    return out + message.body();
}

}  // namespace

TEST_CASE("head writer: a request head is byte for byte what Beast writes") {
    http::request<http::string_body> request{http::verb::patch, "/v2/orgs/telco/blocks/1?x=%20", 11};
    request.set(http::field::host, "127.0.0.1:9001");
    request.set("x-auth-roles", "API_KEY");
    request.insert("X-Forwarded-For", "10.0.0.1");
    request.insert("x-forwarded-for", "10.0.0.2");  // repeated fields keep their order
    request.set(http::field::content_type, "application/json");
    request.body() = R"({"active":true})";
    request.prepare_payload();
    CHECK(our_wire(request) == beast_wire(request));
    CHECK(our_wire(request).rfind("PATCH /v2/orgs/telco/blocks/1?x=%20 HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n", 0) == 0);

    http::request<http::string_body> unknown_method{http::verb::unknown, "/", 10};
    unknown_method.method_string("PURGE");
    CHECK(our_wire(unknown_method) == beast_wire(unknown_method));
    CHECK(our_wire(unknown_method) == "PURGE / HTTP/1.0\r\n\r\n");
}

TEST_CASE("head writer: a response head is byte for byte what Beast writes, reason included") {
    http::response<http::string_body> created{http::status::created, 11};
    created.set("X-Request-Id", "abc");
    created.keep_alive(false);
    created.prepare_payload();
    CHECK(our_wire(created) == beast_wire(created));
    CHECK(our_wire(created) ==
          "HTTP/1.1 201 Created\r\nX-Request-Id: abc\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");

    http::response<http::string_body> own_reason{http::status::not_found, 10};
    own_reason.reason("Nothing Here");
    own_reason.body() = "{}";
    own_reason.prepare_payload();
    CHECK(our_wire(own_reason) == beast_wire(own_reason));

    http::response<http::string_body> odd_status{static_cast<http::status>(299), 11};
    CHECK(our_wire(odd_status) == beast_wire(odd_status));
}
