#include <catch2/catch.hpp>

#include <regex>
#include <set>

#include "upstream/header_policy.hpp"
#include "pipeline/error_responder.hpp"

using namespace gateway;
namespace http = boost::beast::http;

namespace {

http::request_header<> request_with(std::vector<std::pair<std::string, std::string>> fields,
                                    http::verb method = http::verb::get) {
    http::request_header<> request;
    request.method(method);
    request.target("/v2/orgs/telco/subscriptions/1/blocks?x=1");
    request.version(10);
    for (const auto& [name, value] : fields) request.insert(name, value);
    return request;
}

std::string upstream_head(const http::request_header<>& request, UpstreamHeadEdits edits) {
    std::string out;
    append_upstream_head(out, request, edits);
    return out;
}

const UpstreamHeadEdits kEdits{"/internal/blocks/1?x=1", "127.0.0.1", "id-1", "backend", 8081};

}  // namespace

TEST_CASE("the upstream head: new target, HTTP/1.1, the client's fields in order, then the gateway's") {
    const auto request = request_with({{"Host", "api.example"},
                                       {"Accept", "application/json"},
                                       {"Connection", "close, X-Secret"},
                                       {"X-Secret", "s"},
                                       {"Keep-Alive", "timeout=5"},
                                       {"Proxy-Authorization", "Basic x"},
                                       {"Expect", "100-continue"},
                                       {"Content-Length", "99"},
                                       {"X-Request-Id", "from-client"},
                                       {"x-auth-roles", "API_KEY"},
                                       {"Content-Type", "application/json"}},
                                      http::verb::patch);
    UpstreamHeadEdits edits = kEdits;
    edits.send_content_length = true;
    edits.body_size = 15;
    CHECK(upstream_head(request, edits) ==
          "PATCH /internal/blocks/1?x=1 HTTP/1.1\r\n"
          "Host: api.example\r\n"
          "Accept: application/json\r\n"
          "x-auth-roles: API_KEY\r\n"
          "Content-Type: application/json\r\n"
          "X-Forwarded-For: 127.0.0.1\r\n"
          "X-Request-Id: id-1\r\n"
          "Content-Length: 15\r\n"
          "\r\n");
}

TEST_CASE("the upstream head: X-Forwarded-For lines become one list with the client appended") {
    const auto request = request_with({{"X-Forwarded-For", "10.0.0.1"},
                                       {"Accept", "*/*"},
                                       {"x-forwarded-for", "10.0.0.2, 10.0.0.3"}});
    CHECK(upstream_head(request, kEdits) ==
          "GET /internal/blocks/1?x=1 HTTP/1.1\r\n"
          "Accept: */*\r\n"
          "X-Forwarded-For: 10.0.0.1, 10.0.0.2, 10.0.0.3, 127.0.0.1\r\n"
          "X-Request-Id: id-1\r\n"
          "Host: backend:8081\r\n"
          "\r\n");
}

TEST_CASE("the upstream head: Host is the endpoint's when the client sent none or Connection named it") {
    CHECK(upstream_head(request_with({}), kEdits) ==
          "GET /internal/blocks/1?x=1 HTTP/1.1\r\n"
          "X-Forwarded-For: 127.0.0.1\r\n"
          "X-Request-Id: id-1\r\n"
          "Host: backend:8081\r\n"
          "\r\n");
    const auto named = upstream_head(request_with({{"Host", "a"}, {"Connection", "Host"}}), kEdits);
    CHECK(named.find("Host: a\r\n") == std::string::npos);
    CHECK(named.find("Host: backend:8081\r\n") != std::string::npos);
}

TEST_CASE("the upstream head: an empty body gets Content-Length: 0 only when asked (POST, PUT, PATCH)") {
    const auto request = request_with({{"Host", "h"}, {"Content-Length", "0"}}, http::verb::put);
    UpstreamHeadEdits edits = kEdits;
    CHECK(upstream_head(request, edits).find("Content-Length") == std::string::npos);
    edits.send_content_length = true;
    CHECK(upstream_head(request, edits).find("\r\nContent-Length: 0\r\n\r\n") != std::string::npos);
}

TEST_CASE("request ids are kept when sane and generated as UUID v4 otherwise") {
    RequestIdSource ids;
    http::fields given;
    given.insert("X-Request-Id", "abc-123");
    CHECK(ids.ensure(given) == "abc-123");

    const std::regex uuid_v4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    http::fields lower_case;
    lower_case.insert("x-request-id", "trace.7:x_y");
    CHECK(ids.ensure(lower_case) == "trace.7:x_y");

    http::fields none;
    const auto id = ids.ensure(none);
    CHECK(std::regex_match(id, uuid_v4));

    http::fields hostile;
    hostile.insert("X-Request-Id", "a b\"c");
    const auto replaced = ids.ensure(hostile);
    CHECK(std::regex_match(replaced, uuid_v4));

    http::fields twice;
    twice.insert("X-Request-Id", "one");
    twice.insert("X-Request-Id", "two");
    CHECK(std::regex_match(ids.ensure(twice), uuid_v4));

    http::fields too_long;
    too_long.insert("X-Request-Id", std::string(129, 'a'));
    CHECK(std::regex_match(ids.ensure(too_long), uuid_v4));

    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) seen.insert(ids.generate());
    CHECK(seen.size() == 1000);
}

namespace {

http::response_header<> upstream_answer(unsigned status,
                                        std::vector<std::pair<std::string, std::string>> fields) {
    http::response_header<> answer;
    answer.result(status);
    answer.version(11);
    for (const auto& [name, value] : fields) answer.insert(name, value);
    return answer;
}

std::string client_head(const http::response_header<>& answer, ClientHeadEdits edits) {
    std::string out;
    append_client_head(out, answer, edits);
    return out;
}

}  // namespace

TEST_CASE("the client head: every hop-by-hop header and the ones Connection names are dropped") {
    const auto answer = upstream_answer(200, {{"Connection", "keep-alive, X-Foo"},
                                              {"Connection", "X-Bar"},
                                              {"X-Foo", "1"},
                                              {"X-Bar", "2"},
                                              {"Keep-Alive", "timeout=5"},
                                              {"TE", "trailers"},
                                              {"Trailer", "X"},
                                              {"Transfer-Encoding", "chunked"},
                                              {"Upgrade", "websocket"},
                                              {"Proxy-Authenticate", "Basic"},
                                              {"Proxy-Connection", "keep-alive"},
                                              {"Proxy-Custom", "1"},
                                              {"x-auth-roles", "API_KEY"},
                                              {"Content-Type", "application/json"}});
    CHECK(client_head(answer, {11, "id-1", 2, true}) ==
          "HTTP/1.1 200 OK\r\n"
          "x-auth-roles: API_KEY\r\n"
          "Content-Type: application/json\r\n"
          "X-Request-Id: id-1\r\n"
          "Content-Length: 2\r\n"
          "\r\n");
}

TEST_CASE("the client head: the upstream's status and fields in order, then the gateway's") {
    const auto answer = upstream_answer(200, {{"Server", "legacy"},
                                              {"Connection", "keep-alive, X-Hop"},
                                              {"X-Hop", "1"},
                                              {"Keep-Alive", "timeout=5"},
                                              {"Content-Type", "application/json"},
                                              {"Content-Length", "999"},
                                              {"x-request-id", "upstream-made"},
                                              {"Transfer-Encoding", "chunked"},
                                              {"Cache-Control", "no-store"}});
    ClientHeadEdits edits{11, "id-1", 145, true};
    CHECK(client_head(answer, edits) ==
          "HTTP/1.1 200 OK\r\n"
          "Server: legacy\r\n"
          "Content-Type: application/json\r\n"
          "Cache-Control: no-store\r\n"
          "X-Request-Id: id-1\r\n"
          "Content-Length: 145\r\n"
          "\r\n");
    edits.keep_alive = false;
    CHECK_THAT(client_head(answer, edits),
               Catch::EndsWith("Content-Length: 145\r\nConnection: close\r\n\r\n"));
}

TEST_CASE("the client head: an HTTP/1.0 client gets its version and Connection: keep-alive only when it goes on") {
    const auto answer = upstream_answer(201, {});
    CHECK(client_head(answer, {10, "id", 0, true}) ==
          "HTTP/1.0 201 Created\r\nX-Request-Id: id\r\nContent-Length: 0\r\n"
          "Connection: keep-alive\r\n\r\n");
    CHECK(client_head(answer, {10, "id", 0, false}) ==
          "HTTP/1.0 201 Created\r\nX-Request-Id: id\r\nContent-Length: 0\r\n\r\n");
}

TEST_CASE("the client head: no Content-Length for 204 and 304; a HEAD answer keeps the upstream's") {
    CHECK(client_head(upstream_answer(204, {{"Content-Length", "0"}}), {11, "id", 0, true}) ==
          "HTTP/1.1 204 No Content\r\nX-Request-Id: id\r\n\r\n");
    CHECK(client_head(upstream_answer(304, {{"ETag", "\"v1\""}}), {11, "id", 0, true}) ==
          "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nX-Request-Id: id\r\n\r\n");
    ClientHeadEdits head{11, "id", 0, true};
    head.answers_head = true;
    CHECK(client_head(upstream_answer(200, {{"Content-Length", "145"}}), head) ==
          "HTTP/1.1 200 OK\r\nContent-Length: 145\r\nX-Request-Id: id\r\n\r\n");
}

TEST_CASE("the client head: the upstream's own reason phrase is kept") {
    auto answer = upstream_answer(200, {});
    answer.reason("Fine Indeed");
    CHECK_THAT(client_head(answer, {11, "id", 2, true}), Catch::StartsWith("HTTP/1.1 200 Fine Indeed\r\n"));
    CHECK_THAT(client_head(upstream_answer(299, {}), {11, "id", 2, true}),
               Catch::StartsWith("HTTP/1.1 299 "));
}

TEST_CASE("the client head: a streamed body of unknown length is chunked, or ends with the connection for HTTP/1.0") {
    const auto answer = upstream_answer(200, {{"Transfer-Encoding", "chunked"},
                                              {"Content-Type", "text/csv"}});
    ClientHeadEdits chunked{11, "id", 0, true};
    chunked.framing = BodyFraming::chunked;
    CHECK(client_head(answer, chunked) ==
          "HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nX-Request-Id: id\r\n"
          "Transfer-Encoding: chunked\r\n\r\n");
    chunked.keep_alive = false;
    CHECK_THAT(client_head(answer, chunked),
               Catch::EndsWith("Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"));

    // HTTP/1.0 has no chunks: no length, no keep-alive, even when asked for.
    ClientHeadEdits until_close{10, "id", 0, true};
    until_close.framing = BodyFraming::until_close;
    CHECK(client_head(answer, until_close) ==
          "HTTP/1.0 200 OK\r\nContent-Type: text/csv\r\nX-Request-Id: id\r\n\r\n");
    until_close.version = 11;
    CHECK_THAT(client_head(answer, until_close), Catch::EndsWith("X-Request-Id: id\r\nConnection: close\r\n\r\n"));
}

TEST_CASE("the client head: the gateway's own answers go through the same writer, nothing doubled") {
    // render_error's head already holds the request id and a Content-Length: each comes once.
    const auto own = render_error(Error{Errc::method_not_allowed, "PUT /x", {{"Allow", "GET"}}},
                                  11, "id-7");
    ClientHeadEdits edits{11, "id-7", own.body().size(), false};
    const std::string head = client_head(own.base(), edits);
    CHECK(head == "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json\r\n"
                  "Allow: GET\r\nX-Request-Id: id-7\r\nContent-Length: " +
                      std::to_string(own.body().size()) + "\r\nConnection: close\r\n\r\n");
    // An answer to HEAD keeps the length a GET would get.
    edits.answers_head = true;
    CHECK_THAT(client_head(own.base(), edits),
               Catch::Contains("Content-Length: " + std::to_string(own.body().size())));
}

// --- W3C Trace Context: traceparent and tracestate ---------------------------------------------

namespace {

constexpr const char* kOurTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-a0b1c2d3e4f50617-01";

/// How many header lines of `head` are named `name` (any case).
std::size_t lines_named(const std::string& head, std::string_view name) {
    std::size_t count = 0;
    std::size_t at = head.find("\r\n");  // after the request line
    while (at != std::string::npos && at + 2 < head.size()) {
        const std::size_t start = at + 2;
        const std::size_t colon = head.find(':', start);
        const std::size_t end = head.find("\r\n", start);
        if (colon != std::string::npos && colon < end &&
            boost::beast::iequals(std::string_view(head).substr(start, colon - start), name)) {
            ++count;
        }
        at = end;
    }
    return count;
}

}  // namespace

TEST_CASE("the upstream head: with a traceparent to send, the client's traceparent and tracestate lines are replaced by one of each") {
    const auto request = request_with({{"Host", "api.example"},
                                       {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
                                       {"Accept", "*/*"},
                                       {"TraceParent", "00-11111111111111111111111111111111-2222222222222222-00"},
                                       {"tracestate", "congo=t61rcWkgMzE"},
                                       {"TRACESTATE", "rojo=00f067aa0ba902b7"},
                                       {"TRACEPARENT", "garbage"},
                                       {"TraceState", "x=y"},
                                       {"x-auth-roles", "API_KEY"}});
    UpstreamHeadEdits edits = kEdits;
    edits.traceparent = kOurTraceparent;
    edits.tracestate = "ours=1,congo=t61rcWkgMzE";
    const std::string head = upstream_head(request, edits);
    CHECK(head ==
          "GET /internal/blocks/1?x=1 HTTP/1.1\r\n"
          "Host: api.example\r\n"
          "Accept: */*\r\n"
          "x-auth-roles: API_KEY\r\n"
          "X-Forwarded-For: 127.0.0.1\r\n"
          "X-Request-Id: id-1\r\n"
          "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-a0b1c2d3e4f50617-01\r\n"
          "tracestate: ours=1,congo=t61rcWkgMzE\r\n"
          "\r\n");
    CHECK(lines_named(head, "traceparent") == 1);
    CHECK(lines_named(head, "tracestate") == 1);
}

TEST_CASE("the upstream head: the trace headers come after X-Request-Id and before Host and Content-Length") {
    UpstreamHeadEdits edits = kEdits;
    edits.traceparent = kOurTraceparent;
    edits.tracestate = "a=1";
    edits.send_content_length = true;
    edits.body_size = 2;
    CHECK(upstream_head(request_with({{"traceparent", "x"}}, http::verb::post), edits) ==
          "POST /internal/blocks/1?x=1 HTTP/1.1\r\n"
          "X-Forwarded-For: 127.0.0.1\r\n"
          "X-Request-Id: id-1\r\n"
          "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-a0b1c2d3e4f50617-01\r\n"
          "tracestate: a=1\r\n"
          "Host: backend:8081\r\n"
          "Content-Length: 2\r\n"
          "\r\n");
}

TEST_CASE("the upstream head: an empty tracestate sends none, and the client's is still dropped") {
    const auto request = request_with({{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
                                       {"tracestate", "congo=t61rcWkgMzE"},
                                       {"Tracestate", "rojo=00f067aa0ba902b7"}});
    UpstreamHeadEdits edits = kEdits;
    edits.traceparent = kOurTraceparent;
    const std::string head = upstream_head(request, edits);
    CHECK(head ==
          "GET /internal/blocks/1?x=1 HTTP/1.1\r\n"
          "X-Forwarded-For: 127.0.0.1\r\n"
          "X-Request-Id: id-1\r\n"
          "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-a0b1c2d3e4f50617-01\r\n"
          "Host: backend:8081\r\n"
          "\r\n");
    CHECK(lines_named(head, "tracestate") == 0);
    // Also when the client sent no trace headers at all.
    CHECK(upstream_head(request_with({}), edits) ==
          "GET /internal/blocks/1?x=1 HTTP/1.1\r\n"
          "X-Forwarded-For: 127.0.0.1\r\n"
          "X-Request-Id: id-1\r\n"
          "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-a0b1c2d3e4f50617-01\r\n"
          "Host: backend:8081\r\n"
          "\r\n");
}

TEST_CASE("the upstream head: without a traceparent to send, the client's trace headers pass through unchanged") {
    const auto request = request_with({{"TraceParent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
                                       {"Accept", "*/*"},
                                       {"traceparent", "not even valid"},
                                       {"tracestate", "congo=t61rcWkgMzE"},
                                       {"TRACESTATE", " Bad Key=1 ,,"}});
    // As Beast holds them: a field after the others of its name (any case), leading OWS gone.
    const std::string expected =
        "GET /internal/blocks/1?x=1 HTTP/1.1\r\n"
        "TraceParent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
        "traceparent: not even valid\r\n"
        "Accept: */*\r\n"
        "tracestate: congo=t61rcWkgMzE\r\n"
        "TRACESTATE: Bad Key=1 ,,\r\n"
        "X-Forwarded-For: 127.0.0.1\r\n"
        "X-Request-Id: id-1\r\n"
        "Host: backend:8081\r\n"
        "\r\n";
    CHECK(upstream_head(request, kEdits) == expected);
    // A tracestate alone, without a traceparent to go with, is not sent either.
    UpstreamHeadEdits edits = kEdits;
    edits.tracestate = "ours=1";
    CHECK(upstream_head(request, edits) == expected);
}
