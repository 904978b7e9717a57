#include <catch2/catch.hpp>

#include "pipeline/upstream_answer.hpp"

using namespace gateway;

TEST_CASE("2xx and 304 answers pass unchanged") {
    CHECK_FALSE(normalise_upstream_answer("penalties", 200, "OK", "application/json", "[]"));
    CHECK_FALSE(normalise_upstream_answer("penalties", 201, "Created", "", ""));
    CHECK_FALSE(normalise_upstream_answer("penalties", 304, "Not Modified", "", ""));
}

TEST_CASE("an upstream ErrorMessage passes unchanged") {
    const std::string body = R"({"code":404,"status":"NOT_FOUND","message":"m","detailMsg":"d"})";
    CHECK(is_error_message(body));
    CHECK_FALSE(normalise_upstream_answer("penalties", 404, "Not Found", "application/json", body));
}

TEST_CASE("JSON that is not exactly an ErrorMessage is not taken for one") {
    CHECK_FALSE(is_error_message(R"({"code":404,"status":"x","message":"m"})"));
    CHECK_FALSE(is_error_message(R"({"code":"404","status":"x","message":"m","detailMsg":"d"})"));
    CHECK_FALSE(is_error_message(R"({"code":1,"status":"x","message":"m","detailMsg":"d","x":1})"));
    CHECK_FALSE(is_error_message(R"([1])"));
    CHECK_FALSE(is_error_message("<html>"));
}

TEST_CASE("an HTML 500 becomes an ErrorMessage naming the upstream and quoting it") {
    const auto message = normalise_upstream_answer("selfCareSocket", 500, "Internal Server Error",
                                                   "text/html", "<h1>boom</h1>");
    REQUIRE(message);
    CHECK(message->http_status == 500);
    CHECK(message->code == 50090);
    CHECK(message->status == "INTERNAL_SERVER_ERROR");
    CHECK(message->message == "Upstream error");
    CHECK(message->detail_msg ==
          "upstream selfCareSocket answered 500 Internal Server Error with \"text/html\" body: "
          "\"<h1>boom</h1>\"");
}

TEST_CASE("normalised errors keep the status and bound the excerpt") {
    const std::string long_body(5000, 'x');
    const auto message = normalise_upstream_answer("penalties", 409, "", "", long_body);
    REQUIRE(message);
    CHECK(message->http_status == 409);
    CHECK(message->code == 40990);
    CHECK(message->status == "CONFLICT");
    CHECK(message->detail_msg.size() < kUpstreamExcerptBytes + 100);
    CHECK(message->detail_msg.find("...") != std::string::npos);
    const auto empty = normalise_upstream_answer("penalties", 502, "Bad Gateway", "", "");
    REQUIRE(empty);
    CHECK(empty->detail_msg == "upstream penalties answered 502 Bad Gateway with an empty body");
}
