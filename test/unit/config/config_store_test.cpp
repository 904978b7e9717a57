#include <catch2/catch.hpp>

#include "config/config_store.hpp"
#include "config/endpoint_resolver.hpp"
#include "config/temp_config.hpp"

using namespace gateway;

namespace {
const std::string kRoutes = R"(routes:
  - {name: r, method: GET, path: /a, roles: [A], upstream: backend}
)";
}  // namespace

TEST_CASE("the store keeps the config in force when a reload fails") {
    TempConfig dir;
    const auto path = dir.write("upstreams:\n  backend: {endpoints: [127.0.0.1:9001]}\n" + kRoutes);
    ConfigStore store(path, {});
    const auto first = store.reload();
    REQUIRE(first.config);
    CHECK(store.current() == first.config);
    CHECK(store.reloads() == 1);

    dir.write("upstreams:\n  backend: {endpoints: [127.0.0.1:9001]}\nroutes: [oops\n");
    const auto broken = store.reload();
    CHECK_FALSE(broken.config);
    CHECK_FALSE(broken.diagnostics.empty());
    CHECK(store.current() == first.config);
    CHECK(store.failed_reloads() == 1);

    dir.write("upstreams:\n  backend: {endpoints: [127.0.0.1:9002]}\n" + kRoutes);
    const auto second = store.reload();
    REQUIRE(second.config);
    CHECK(store.current() == second.config);
    CHECK(second.config->source_hash != first.config->source_hash);
    CHECK(store.reloads() == 2);
}

TEST_CASE("serving configs have every endpoint resolved to a numeric address") {
    TempConfig dir;
    const auto path =
        dir.write("upstreams:\n  backend: {endpoints: [localhost:9001, 127.0.0.1:9002, \"[::1]:9003\"]}\n" + kRoutes);
    const auto loaded = load_serving_config(path);
    INFO((loaded.diagnostics.empty() ? std::string() : loaded.diagnostics.front().to_string()));
    REQUIRE(loaded.config);
    const auto& endpoints = loaded.config->upstreams.at(0).endpoints;
    CHECK((endpoints[0].address == "127.0.0.1" || endpoints[0].address == "::1"));
    CHECK(endpoints[1].address == "127.0.0.1");
    CHECK(endpoints[2].address == "::1");
    // --check (load_config) does not resolve.
    CHECK(load_config(path).config->upstreams.at(0).endpoints[0].address.empty());
}

TEST_CASE("a host name that does not resolve keeps the config from serving") {
    TempConfig dir;
    const auto path =
        dir.write("upstreams:\n  backend: {endpoints: [no-such-host.invalid:9001]}\n" + kRoutes);
    const auto loaded = load_serving_config(path);
    CHECK_FALSE(loaded.config);
    REQUIRE(loaded.diagnostics.size() == 1);
    CHECK(loaded.diagnostics[0].message.find("upstream 'backend': cannot resolve 'no-such-host.invalid'") == 0);
    CHECK(load_config(path).config);
}

TEST_CASE("a loaded config is not the one in force until it is published") {
    TempConfig dir;
    const auto path = dir.write("upstreams:\n  backend: {endpoints: [127.0.0.1:9001]}\n" + kRoutes);
    ConfigStore store(path, {});
    const auto first = store.reload();
    REQUIRE(first.config);

    dir.write("upstreams:\n  backend: {endpoints: [127.0.0.1:9002]}\n" + kRoutes);
    const auto candidate = store.load();
    REQUIRE(candidate.config);
    CHECK(store.current() == first.config);  // workers may still be switching
    CHECK(store.reloads() == 1);
    store.publish(candidate.config);
    CHECK(store.current() == candidate.config);
    CHECK(store.reloads() == 2);

    dir.write("routes: [oops\n");
    CHECK_FALSE(store.load().config);
    CHECK(store.failed_reloads() == 1);
    CHECK(store.current() == candidate.config);
}
