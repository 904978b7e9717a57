#include <catch2/catch.hpp>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <sstream>

#include "io/head_writer.hpp"

using namespace gateway;
namespace http = boost::beast::http;

namespace {

// What Beast's own serializer writes for the whole message.
std::string beast_wire(const http::response<http::string_body>& message) {
    std::ostringstream out;
    out << message;
    return out.str();
}

std::string our_wire(const http::response<http::string_body>& message) {
    std::string out;
    append_status_line(out, message.version(), message.base());
    for (const auto& field : message.base()) append_field(out, field.name_string(), field.value());
    return out + "\r\n" + message.body();
}

}  // namespace

TEST_CASE("head writer: status line and fields are byte for byte what Beast writes, reason included") {
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
