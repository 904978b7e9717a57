#include <catch2/catch.hpp>

#include "routing/canonical_path.hpp"

using namespace gateway;

namespace {
std::string canonical(std::string_view raw) {
    auto result = canonicalize_path(raw);
    REQUIRE(result.ok());
    return *result;
}
std::string refusal(std::string_view raw) {
    auto result = canonicalize_path(raw);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().errc == Errc::invalid_path);
    return result.error().detail;
}
}  // namespace

TEST_CASE("a canonical path stays byte for byte the same") {
    CHECK(canonical("/v2/orgs/telco/subscriptions/214748364/blocks") ==
          "/v2/orgs/telco/subscriptions/214748364/blocks");
    CHECK(canonical("/a/b:c@d/e!$&'()*+,;=~") == "/a/b:c@d/e!$&'()*+,;=~");
}

TEST_CASE("every spelling of a segment becomes one") {
    CHECK(canonical("/v2/%6Frgs/tel%63o") == "/v2/orgs/telco");
    CHECK(canonical("/a/%7e%7E") == "/a/~~");
    CHECK(canonical("/a/b%20c") == "/a/b%20c");
    CHECK(canonical("/a/b%3a") == "/a/b:");
    CHECK(canonical("/a/%c3%a9") == "/a/%C3%A9");
    CHECK(canonical("/a/%3F%23%5B") == "/a/%3F%23%5B");
    CHECK(canonical("/a/b\"c") == "/a/b%22c");
}

TEST_CASE("dot segments, encoded slashes, control bytes and broken escapes are refused") {
    CHECK(refusal("/a/./b") == "path segment \".\": dot segments are not allowed");
    CHECK(refusal("/a/..") == "path segment \"..\": dot segments are not allowed");
    refusal("/a/%2e/b");
    refusal("/a/%2E%2e/b");
    refusal("/a/.%2e/b");
    CHECK(refusal("/a/b%2Fc") == "path segment \"b%2Fc\": an encoded '/' is not allowed");
    refusal("/a/b%2fc");
    CHECK(refusal("/a/%00") == "path segment \"%00\": control characters are not allowed");
    refusal("/a/%0d%0a");
    refusal("/a/%7F");
    CHECK(refusal("/a/%zz") == "path segment \"%zz\": invalid percent-encoding");
    refusal("/a/%4");
    CHECK(refusal("a/b") == "path must start with '/'");
}

TEST_CASE("segments that only look like dots are fine") {
    CHECK(canonical("/a/.../b") == "/a/.../b");
    CHECK(canonical("/a/.x/x.") == "/a/.x/x.");
}
