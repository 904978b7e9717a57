#include <catch2/catch.hpp>

#include "pipeline/upstream_answer.hpp"

using namespace gateway;

TEST_CASE("2xx and 304 answers pass unchanged") {
    CHECK_FALSE(normalise_upstream_answer("penalties", 200, "OK", "application/json", "[]", false));
    CHECK_FALSE(normalise_upstream_answer("penalties", 201, "Created", "", "", false));
    CHECK_FALSE(normalise_upstream_answer("penalties", 304, "Not Modified", "", "", false));
}

TEST_CASE("an upstream ErrorMessage passes unchanged") {
    const std::string body = R"({"code":404,"status":"NOT_FOUND","message":"m","detailMsg":"d"})";
    CHECK(is_error_message(body));
    CHECK_FALSE(normalise_upstream_answer("penalties", 404, "Not Found", "application/json", body, false));
}

TEST_CASE("JSON that is not exactly an ErrorMessage is not taken for one") {
    CHECK_FALSE(is_error_message(R"({"code":404,"status":"x","message":"m"})"));
    CHECK_FALSE(is_error_message(R"({"code":"404","status":"x","message":"m","detailMsg":"d"})"));
    CHECK_FALSE(is_error_message(R"({"code":1,"status":"x","message":"m","detailMsg":"d","x":1})"));
    CHECK_FALSE(is_error_message(R"([1])"));
    CHECK_FALSE(is_error_message("<html>"));
}

TEST_CASE("an HTML 500 becomes an ErrorMessage naming the upstream and its status, not its page") {
    const auto message = normalise_upstream_answer(
        "selfCareSocket", 500, "Internal Server Error at db-07.internal", "text/html",
        "<h1>java.lang.NullPointerException at jdbc:oracle:thin:@db-07.internal</h1>", false);
    REQUIRE(message);
    CHECK(message->http_status == 500);
    CHECK(message->code == 50090);
    CHECK(message->status == "INTERNAL_SERVER_ERROR");
    CHECK(message->message == "Upstream error");
    // The standard reason, not the upstream's own, which is its bytes too.
    CHECK(message->detail_msg ==
          "upstream selfCareSocket answered 500 Internal Server Error; its body is not passed on "
          "(the gateway's access log keeps it under this request's id)");
}

TEST_CASE("an unregistered error status gets no reason phrase") {
    const auto message = normalise_upstream_answer("penalties", 598, "Weird", "", "x", false);
    REQUIRE(message);
    CHECK(message->code == 59890);
    CHECK(message->detail_msg.find("upstream penalties answered 598;") == 0);
}

TEST_CASE("with expose_error_body the detail quotes the upstream's reason, type and body") {
    const auto message = normalise_upstream_answer("selfCareSocket", 500, "Internal Server Error",
                                                   "text/html", "<h1>boom</h1>", true);
    REQUIRE(message);
    CHECK(message->detail_msg ==
          "upstream selfCareSocket answered 500 Internal Server Error with \"text/html\" body: "
          "\"<h1>boom</h1>\"");
}

TEST_CASE("normalised errors keep the status and bound the quoted excerpt") {
    const std::string long_body(5000, 'x');
    const auto message = normalise_upstream_answer("penalties", 409, "", "", long_body, true);
    REQUIRE(message);
    CHECK(message->http_status == 409);
    CHECK(message->code == 40990);
    CHECK(message->status == "CONFLICT");
    CHECK(message->detail_msg.size() < kUpstreamExcerptBytes + 100);
    CHECK(message->detail_msg.find("...") != std::string::npos);
    for (const bool quote : {false, true}) {
        const auto empty = normalise_upstream_answer("penalties", 502, "Bad Gateway", "", "", quote);
        REQUIRE(empty);
        CHECK(empty->detail_msg == "upstream penalties answered 502 Bad Gateway with an empty body");
    }
}
