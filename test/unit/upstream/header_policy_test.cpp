#include <catch2/catch.hpp>

#include <regex>
#include <set>

#include "upstream/header_policy.hpp"

using namespace gateway;
namespace http = boost::beast::http;

TEST_CASE("hop-by-hop headers and the ones Connection names are removed") {
    http::fields fields;
    fields.insert("Connection", "keep-alive, X-Foo");
    fields.insert("Connection", "X-Bar");
    fields.insert("X-Foo", "1");
    fields.insert("X-Bar", "2");
    fields.insert("Keep-Alive", "timeout=5");
    fields.insert("TE", "trailers");
    fields.insert("Trailer", "X");
    fields.insert("Transfer-Encoding", "chunked");
    fields.insert("Upgrade", "websocket");
    fields.insert("Proxy-Authorization", "Basic x");
    fields.insert("Proxy-Connection", "keep-alive");
    fields.insert("Proxy-Custom", "1");
    fields.insert("x-auth-roles", "API_KEY");
    fields.insert("Content-Type", "application/json");
    strip_hop_by_hop(fields);
    std::vector<std::string> left;
    for (const auto& field : fields) left.emplace_back(field.name_string());
    CHECK(left == std::vector<std::string>{"x-auth-roles", "Content-Type"});
}

TEST_CASE("X-Forwarded-For is appended to what came") {
    http::fields fields;
    append_forwarded_for(fields, "127.0.0.1");
    CHECK(fields["X-Forwarded-For"] == "127.0.0.1");
    http::fields chained;
    chained.insert("X-Forwarded-For", "10.0.0.1");
    chained.insert("x-forwarded-for", "10.0.0.2");
    append_forwarded_for(chained, "127.0.0.1");
    CHECK(chained.count("X-Forwarded-For") == 1);
    CHECK(chained["X-Forwarded-For"] == "10.0.0.1, 10.0.0.2, 127.0.0.1");
}

TEST_CASE("request ids are kept when sane and generated as UUID v4 otherwise") {
    RequestIdSource ids;
    http::fields given;
    given.insert("X-Request-Id", "abc-123");
    CHECK(ids.ensure(given) == "abc-123");

    const std::regex uuid_v4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    http::fields none;
    const auto id = ids.ensure(none);
    CHECK(std::regex_match(id, uuid_v4));
    CHECK(none["X-Request-Id"] == id);

    http::fields hostile;
    hostile.insert("X-Request-Id", "a b\"c");
    const auto replaced = ids.ensure(hostile);
    CHECK(std::regex_match(replaced, uuid_v4));
    CHECK(hostile.count("X-Request-Id") == 1);

    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) seen.insert(ids.generate());
    CHECK(seen.size() == 1000);
}
