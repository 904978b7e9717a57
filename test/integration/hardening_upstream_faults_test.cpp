// Hardening 5: every way the upstream can misbehave (the mock's x-mock-fault modes) gives the
// documented status and code, quickly, and the next request on the same client connection is
// served normally. Retries are counted with the mock's request counter: an idempotent request
// that failed before any response byte is sent once more, never more, and PATCH never twice.

#include <catch2/catch.hpp>

#include "support/bodies.hpp"
#include "support/documented_routes.hpp"
#include "support/gateway_fixture.hpp"
#include "support/hardening.hpp"

using namespace test_support;
using Catch::Matchers::Contains;

namespace {

using std::chrono::milliseconds;

constexpr int kUpstreamTimeoutMs = 500;

GatewayOptions short_upstream_timeout() {
    GatewayOptions options;
    options.upstream_timeout_ms = kUpstreamTimeoutMs;
    return options;
}

Headers fault(const std::string& mode, Headers more = {}) {
    more.emplace_back("x-mock-fault", mode);
    return api_key(std::move(more));
}

/// The next request on the same connection gets the documented answer.
void check_next_request_served(HttpClient& client) {
    const auto next = client.send("GET", kBlocksTarget, api_key());
    INFO("next request on the same connection:\n" << next.describe());
    CHECK(next.status == 200);
    CHECK_THAT(next.body, Contains("\"subscription_id\":214748364"));
}

struct ErrorFault {
    const char* mode;
    int status;
    int code;
    const char* status_name;
};

const char* const kPut = "/v2/orgs/telco/penalties/214748364?penalties=[0]";
const char* const kDelete = "/v2/orgs/telco/penalties/214748364";

}  // namespace

TEST_CASE("upstream faults: each broken answer becomes its documented ErrorMessage, and the next request is served") {
    GatewayFixture fixture(short_upstream_timeout());
    auto client = fixture.client(milliseconds(3000));
    const std::vector<ErrorFault> faults = {
        {"html-500", 500, 50090, "INTERNAL_SERVER_ERROR"},
        {"text-404", 404, 40490, "NOT_FOUND"},
        {"json-409", 409, 40990, "CONFLICT"},
        {"empty-502", 502, 50290, "BAD_GATEWAY"},
        {"empty-503", 503, 50390, "SERVICE_UNAVAILABLE"},
        {"close", 502, 50202, "BAD_GATEWAY"},
        {"half-body", 502, 50202, "BAD_GATEWAY"},
        {"garbage", 502, 50203, "BAD_GATEWAY"},
    };
    for (const auto& f : faults) {
        INFO("x-mock-fault: " << f.mode);
        const auto started = Clock::now();
        const auto response = client.send("GET", kBlocksTarget, fault(f.mode));
        EXPECT_ERROR(response, f.status, f.code, f.status_name);
        CHECK(elapsed_ms(started) < 1000);
        check_next_request_served(client);
    }
}

TEST_CASE("upstream faults: an upstream ErrorMessage 404 is passed through byte for byte") {
    GatewayFixture fixture(short_upstream_timeout());
    auto client = fixture.client(milliseconds(3000));
    auto mock = fixture.mock_client();
    const auto direct = mock.send("GET", kBlocksTarget, fault("error-message-404"));
    REQUIRE(direct.status == 404);
    const auto response = client.send("GET", kBlocksTarget, fault("error-message-404"));
    INFO(response.describe());
    CHECK(response.status == 404);
    CHECK(response.body == direct.body);
    CHECK(response.header("Content-Type") == direct.header("Content-Type"));
    check_next_request_served(client);
}

TEST_CASE("upstream faults: hang and slow (about 3 s) give 504 code 50401 after --upstream-timeout-ms 500, in under 1.5 s") {
    GatewayFixture fixture(short_upstream_timeout());
    auto client = fixture.client(milliseconds(3000));
    for (const char* mode : {"hang", "slow"}) {
        INFO("x-mock-fault: " << mode);
        const auto started = Clock::now();
        const auto response = client.send("GET", kBlocksTarget, fault(mode));
        const long long took = elapsed_ms(started);
        INFO("answered after " << took << " ms");
        EXPECT_ERROR(response, 504, 50401, "GATEWAY_TIMEOUT");
        CHECK(took >= kUpstreamTimeoutMs * 8 / 10);
        CHECK(took < 1500);
        check_next_request_served(client);
    }
}

TEST_CASE("upstream faults: a chunked answer is relayed whole with a Content-Length and no Transfer-Encoding") {
    GatewayFixture fixture(short_upstream_timeout());
    auto client = fixture.client(milliseconds(3000));
    auto mock = fixture.mock_client();
    const auto direct = mock.send("GET", kPenaltiesTarget, api_key());
    REQUIRE(direct.status == 200);
    const auto response = client.send("GET", kPenaltiesTarget, fault("chunked"));
    INFO(response.describe());
    CHECK(response.status == 200);
    CHECK(response.body == direct.body);
    CHECK(response.header("Content-Length") == std::to_string(direct.body.size()));
    CHECK(response.header_count("Transfer-Encoding") == 0);
    check_next_request_served(client);
}

TEST_CASE("upstream faults: a 3 MiB answer is relayed byte-identical to the mock's direct answer") {
    GatewayFixture fixture(short_upstream_timeout());
    auto client = fixture.client(milliseconds(5000));
    auto mock = fixture.mock_client();
    const auto direct = mock.send("GET", kPenaltiesTarget, fault("big"));
    REQUIRE(direct.status == 200);
    REQUIRE(direct.body.size() >= 3u * 1024u * 1024u);
    const auto response = client.send("GET", kPenaltiesTarget, fault("big"));
    CHECK(response.status == 200);
    CHECK(response.body.size() == direct.body.size());
    CHECK(response.body == direct.body);
    CHECK(response.header("Content-Length") == std::to_string(direct.body.size()));
    check_next_request_served(client);
}

TEST_CASE("upstream faults: a 3 MiB chunked answer of unknown length is streamed to an HTTP/1.1 client chunked, byte-identical, and the connection goes on") {
    GatewayFixture fixture(short_upstream_timeout());
    auto mock = fixture.mock_client();
    const auto direct = mock.send("GET", kPenaltiesTarget, fault("big"));
    REQUIRE(direct.body.size() >= 3u * 1024u * 1024u);
    const std::string request = std::string("GET ") + kPenaltiesTarget +
                                " HTTP/1.1\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n"
                                "X-Request-Id: chunked-relay\r\nx-mock-fault: big-chunked\r\n\r\n";
    RawConnection connection(fixture.port());
    const auto deadline = Clock::now() + milliseconds(5000);
    REQUIRE(connection.write(request, deadline));
    // Beast's parser on the test side is strict about the chunk framing it decodes.
    const auto response = connection.read_response(deadline);
    REQUIRE(response);
    INFO(response->describe().substr(0, 600));
    CHECK(response->status == 200);
    CHECK(response->header_count("Transfer-Encoding") == 1);
    CHECK(response->header("Transfer-Encoding") == "chunked");
    CHECK(response->header_count("Content-Length") == 0);
    CHECK(response->header("X-Request-Id") == "chunked-relay");
    CHECK(response->body.size() == direct.body.size());
    CHECK(response->body == direct.body);
    // The last chunk ended the answer: the next request on the connection is served.
    const std::string next = std::string("GET ") + kBlocksTarget +
                             " HTTP/1.1\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n\r\n";
    REQUIRE(connection.write(next, deadline));
    const auto second = connection.read_response(deadline);
    REQUIRE(second);
    CHECK(second->status == 200);
    CHECK_THAT(second->body, Contains("\"subscription_id\":214748364"));
}

TEST_CASE("upstream faults: a 3 MiB chunked answer reaches an HTTP/1.0 client unchunked, ended by the close") {
    GatewayFixture fixture(short_upstream_timeout());
    auto mock = fixture.mock_client();
    const auto direct = mock.send("GET", kPenaltiesTarget, fault("big"));
    REQUIRE(direct.body.size() >= 3u * 1024u * 1024u);
    const std::string request = std::string("GET ") + kPenaltiesTarget +
                                " HTTP/1.0\r\nHost: gateway\r\nConnection: keep-alive\r\n"
                                "x-auth-roles: API_KEY\r\nx-mock-fault: big-chunked\r\n\r\n";
    const auto drained = send_raw(fixture.port(), request, milliseconds(5000));
    CHECK(drained.closed);
    CHECK_FALSE(drained.timed_out);
    const std::size_t head_end = drained.bytes.find("\r\n\r\n");
    REQUIRE(head_end != std::string::npos);
    const std::string head = drained.bytes.substr(0, head_end + 2);
    INFO(head);
    CHECK_THAT(head, Catch::StartsWith("HTTP/1.0 200 OK\r\n"));
    CHECK_THAT(head, !Contains("Content-Length") && !Contains("Transfer-Encoding") &&
                         !Contains("keep-alive"));
    const std::string body = drained.bytes.substr(head_end + 4);
    CHECK(body.size() == direct.body.size());
    CHECK(body == direct.body);
}

TEST_CASE("upstream faults: an idempotent request whose upstream closes without answering is retried exactly once on a fresh connection") {
    GatewayFixture fixture(short_upstream_timeout());
    auto client = fixture.client(milliseconds(3000));
    struct Request {
        const char* method;
        const char* target;
    };
    for (const Request r : {Request{"GET", kBlocksTarget}, Request{"PUT", kPut}, Request{"DELETE", kDelete}}) {
        INFO(r.method << " " << r.target);
        reset_mock_request_count(fixture.mock_port());
        const auto response = client.send(r.method, r.target, fault("close"));
        EXPECT_ERROR(response, 502, 50202, "BAD_GATEWAY");
        CHECK(mock_request_count(fixture.mock_port()) == 2);
        check_next_request_served(client);
    }
}

TEST_CASE("upstream faults: a PATCH whose upstream closes without answering is never retried") {
    GatewayFixture fixture(short_upstream_timeout());
    auto client = fixture.client(milliseconds(3000));
    reset_mock_request_count(fixture.mock_port());
    const auto response = client.send("PATCH", kPatchTarget,
                                      fault("close", {{"Content-Type", "application/json"}}),
                                      R"({"active":true})");
    EXPECT_ERROR(response, 502, 50202, "BAD_GATEWAY");
    CHECK(mock_request_count(fixture.mock_port()) == 1);
    check_next_request_served(client);
}

TEST_CASE("upstream faults: a GET whose upstream dies after sending response bytes (half-body) is not retried") {
    GatewayFixture fixture(short_upstream_timeout());
    auto client = fixture.client(milliseconds(3000));
    reset_mock_request_count(fixture.mock_port());
    const auto response = client.send("GET", kBlocksTarget, fault("half-body"));
    EXPECT_ERROR(response, 502, 50202, "BAD_GATEWAY");
    CHECK(mock_request_count(fixture.mock_port()) == 1);
    check_next_request_served(client);
}

TEST_CASE("upstream faults: a streamed answer that breaks off reaches the client as broken, never as a whole 200") {
    GatewayFixture fixture(short_upstream_timeout());
    // 3 MiB is past response_buffer_bytes (1 MiB): the gateway has already sent the head and
    // the first MiB when the mock cuts the body in half.
    const std::string request = std::string("GET ") + kPenaltiesTarget +
                                " HTTP/1.1\r\nHost: gateway\r\nx-auth-roles: API_KEY\r\n"
                                "x-mock-fault: big-cut\r\n\r\n";
    const auto drained = send_raw(fixture.port(), request, milliseconds(5000));
    CHECK(drained.closed);
    CHECK_FALSE(drained.timed_out);
    const std::size_t head_end = drained.bytes.find("\r\n\r\n");
    REQUIRE(head_end != std::string::npos);
    const std::string head = drained.bytes.substr(0, head_end);
    CHECK_THAT(head, Contains("HTTP/1.1 200 OK"));
    const std::size_t length_at = head.find("Content-Length: ");
    REQUIRE(length_at != std::string::npos);
    const std::size_t promised = std::stoul(head.substr(length_at + 16));
    const std::size_t delivered = drained.bytes.size() - head_end - 4;
    INFO("promised " << promised << " bytes, delivered " << delivered);
    CHECK(promised >= 3u * 1024u * 1024u);
    CHECK(delivered > 1024u * 1024u);  // it was streamed, not held back
    CHECK(delivered < promised);       // and the client can tell it is incomplete
    // The gateway is fine afterwards.
    auto client = fixture.client();
    check_next_request_served(client);
}

TEST_CASE("upstream faults: a status outside 100-599 (999, 600) or an unasked-for 101 is an invalid response: 502 code 50203") {
    GatewayFixture fixture(short_upstream_timeout());
    auto client = fixture.client(milliseconds(3000));
    for (const char* status : {"999", "600", "101"}) {
        INFO("x-mock-status: " << status);
        const auto started = Clock::now();
        const auto response = client.send("GET", kBlocksTarget, api_key({{"x-mock-status", status}}));
        const auto error = EXPECT_ERROR(response, 502, 50203, "BAD_GATEWAY");
        CHECK_THAT(error.detail, Contains("upstream selfCareSocket sent an invalid HTTP response: status " +
                                          std::string(status)));
        CHECK(elapsed_ms(started) < 1000);
        check_next_request_served(client);
    }
}
