#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "upstream/upstream_state.hpp"

using namespace gateway;
using namespace std::chrono_literals;

namespace {

UpstreamConfig upstream_with(std::vector<std::uint16_t> ports) {
    UpstreamConfig upstream;
    upstream.name = "backend";
    for (const auto port : ports) upstream.endpoints.push_back({"10.0.0.1", port});
    return upstream;
}

OutlierDetection outlier(std::size_t consecutive_failures, std::chrono::milliseconds base,
                         std::size_t max_ejected_percent) {
    OutlierDetection settings;
    settings.consecutive_failures = consecutive_failures;
    settings.base_ejection = base;
    settings.max_ejected_percent = max_ejected_percent;
    return settings;
}

HealthCheck health_check(std::size_t healthy_threshold, std::size_t unhealthy_threshold) {
    HealthCheck settings;
    settings.healthy_threshold = healthy_threshold;
    settings.unhealthy_threshold = unhealthy_threshold;
    return settings;
}

void fail(UpstreamState& state, EndpointState& endpoint, const UpstreamConfig& upstream,
          SteadyClock::time_point now, int times = 1) {
    for (int i = 0; i < times; ++i) state.record_failure(endpoint, upstream, "answered 503", now);
}

}  // namespace

TEST_CASE("upstream state: an endpoint is ejected at exactly its consecutive_failures-th failure in a row") {
    auto upstream = upstream_with({8001, 8002});
    upstream.outlier_detection = outlier(3, 1000ms, 100);
    UpstreamState state("backend");
    const auto endpoints = state.endpoints_for(upstream, true);
    const auto now = SteadyClock::now();

    fail(state, *endpoints[0], upstream, now, 2);
    CHECK_FALSE(endpoints[0]->ejected(now));
    CHECK(endpoints[0]->available(now));
    CHECK(state.view(now)[0].consecutive_failures == 2);
    fail(state, *endpoints[0], upstream, now);
    CHECK(endpoints[0]->ejected(now));
    CHECK_FALSE(endpoints[0]->available(now));
    CHECK(endpoints[1]->available(now));
    const auto view = state.view(now);
    REQUIRE(view.size() == 2);
    CHECK(view[0].ejected);
    CHECK(view[0].ejections == 1);
    CHECK(view[0].consecutive_failures == 0);  // the run that ejected it is spent
    CHECK(view[0].last_error == "answered 503");
    CHECK_FALSE(view[1].ejected);
    CHECK(view[1].ejections == 0);
}

TEST_CASE("upstream state: a success between failures starts the run of failures again") {
    auto upstream = upstream_with({8001, 8002});
    upstream.outlier_detection = outlier(3, 1000ms, 100);
    UpstreamState state("backend");
    const auto endpoints = state.endpoints_for(upstream, true);
    const auto now = SteadyClock::now();

    fail(state, *endpoints[0], upstream, now, 2);
    UpstreamState::record_success(*endpoints[0]);
    CHECK(state.view(now)[0].consecutive_failures == 0);
    fail(state, *endpoints[0], upstream, now, 2);
    CHECK_FALSE(endpoints[0]->ejected(now));
    fail(state, *endpoints[0], upstream, now);
    CHECK(endpoints[0]->ejected(now));
}

TEST_CASE("upstream state: an ejection lasts base_ejection and ends when its time is up") {
    auto upstream = upstream_with({8001, 8002});
    upstream.outlier_detection = outlier(1, 1500ms, 100);
    UpstreamState state("backend");
    const auto endpoints = state.endpoints_for(upstream, true);
    const auto now = SteadyClock::now();

    fail(state, *endpoints[0], upstream, now);
    CHECK(state.view(now)[0].ejected_for == 1500ms);
    CHECK(state.view(now + 500ms)[0].ejected_for == 1000ms);
    CHECK_FALSE(endpoints[0]->available(now + 1500ms - 1ns));
    CHECK(endpoints[0]->available(now + 1500ms));
    const auto after = state.view(now + 1500ms)[0];
    CHECK_FALSE(after.ejected);
    CHECK(after.ejected_for == 0ms);
    CHECK(after.ejections == 1);
}

TEST_CASE("upstream state: each new ejection of an endpoint lasts twice as long as the one before") {
    auto upstream = upstream_with({8001, 8002});
    upstream.outlier_detection = outlier(2, 1000ms, 100);
    UpstreamState state("backend");
    const auto endpoints = state.endpoints_for(upstream, true);
    auto now = SteadyClock::now();

    fail(state, *endpoints[0], upstream, now, 2);
    CHECK(state.view(now)[0].ejected_for == 1000ms);
    now += 1000ms;  // back in service, and failing again at once
    REQUIRE(endpoints[0]->available(now));
    fail(state, *endpoints[0], upstream, now);
    CHECK(endpoints[0]->available(now));  // one failure of the two it takes
    fail(state, *endpoints[0], upstream, now);
    CHECK(state.view(now)[0].ejected_for == 2000ms);
    now += 2000ms;
    fail(state, *endpoints[0], upstream, now, 2);
    CHECK(state.view(now)[0].ejected_for == 4000ms);
    CHECK(state.view(now)[0].ejections == 3);
}

TEST_CASE("upstream state: the doubled ejection stops at OutlierDetection::kMaxEjection") {
    auto upstream = upstream_with({8001, 8002});
    upstream.outlier_detection = outlier(1, 100s, 100);
    UpstreamState state("backend");
    const auto endpoints = state.endpoints_for(upstream, true);
    auto now = SteadyClock::now();

    std::vector<std::chrono::milliseconds> lengths;
    for (int i = 0; i < 5; ++i) {
        fail(state, *endpoints[0], upstream, now);
        lengths.push_back(state.view(now)[0].ejected_for);
        now += lengths.back();
    }
    CHECK(OutlierDetection::kMaxEjection == 300s);
    CHECK(lengths == std::vector<std::chrono::milliseconds>{100s, 200s, 300s, 300s, 300s});
}

TEST_CASE("upstream state: a base_ejection over kMaxEjection is the length of every ejection") {
    auto upstream = upstream_with({8001, 8002});
    upstream.outlier_detection = outlier(1, 400s, 100);
    UpstreamState state("backend");
    const auto endpoints = state.endpoints_for(upstream, true);
    auto now = SteadyClock::now();

    fail(state, *endpoints[0], upstream, now);
    CHECK(state.view(now)[0].ejected_for == 400s);
    now += 400s;
    fail(state, *endpoints[0], upstream, now);
    CHECK(state.view(now)[0].ejected_for == 400s);
}

TEST_CASE("upstream state: max_ejected_percent 50 of 4 endpoints ejects two at most") {
    auto upstream = upstream_with({8001, 8002, 8003, 8004});
    upstream.outlier_detection = outlier(1, 10s, 50);
    UpstreamState state("backend");
    const auto endpoints = state.endpoints_for(upstream, true);
    const auto now = SteadyClock::now();

    fail(state, *endpoints[0], upstream, now);
    fail(state, *endpoints[1], upstream, now);
    CHECK(endpoints[0]->ejected(now));
    CHECK(endpoints[1]->ejected(now));
    fail(state, *endpoints[2], upstream, now, 5);
    fail(state, *endpoints[3], upstream, now + 1s, 5);
    CHECK_FALSE(endpoints[2]->ejected(now));
    CHECK_FALSE(endpoints[3]->ejected(now + 1s));
    CHECK(state.view(now)[2].consecutive_failures == 5);

    // Once one ejection ends, there is room for another.
    const auto later = now + 10s;
    REQUIRE_FALSE(endpoints[0]->ejected(later));
    fail(state, *endpoints[2], upstream, later);
    CHECK(endpoints[2]->ejected(later));
    CHECK(state.view(later)[2].ejections == 1);
}

TEST_CASE("upstream state: the only endpoint is never ejected under max_ejected_percent 50") {
    auto upstream = upstream_with({8001});
    upstream.outlier_detection = outlier(1, 10s, 50);
    UpstreamState state("backend");
    const auto endpoints = state.endpoints_for(upstream, true);
    const auto now = SteadyClock::now();

    fail(state, *endpoints[0], upstream, now, 10);
    CHECK(endpoints[0]->available(now));
    CHECK(state.view(now)[0].ejections == 0);
}

TEST_CASE("upstream state: without outlier_detection nothing is ejected, yet failures and the last error are kept") {
    const auto upstream = upstream_with({8001, 8002});
    UpstreamState state("backend");
    const auto endpoints = state.endpoints_for(upstream, true);
    const auto now = SteadyClock::now();

    state.record_failure(*endpoints[1], upstream, "connection refused", now);
    state.record_failure(*endpoints[1], upstream, "answered 502", now);
    for (int i = 0; i < 20; ++i) state.record_failure(*endpoints[0], upstream, "reset", now);
    CHECK(endpoints[0]->available(now));
    CHECK(endpoints[1]->available(now));
    const auto view = state.view(now);
    REQUIRE(view.size() == 2);
    CHECK(view[0].name == "10.0.0.1:8001");
    CHECK(view[0].consecutive_failures == 20);
    CHECK(view[0].last_error == "reset");
    CHECK(view[1].name == "10.0.0.1:8002");
    CHECK(view[1].consecutive_failures == 2);
    CHECK(view[1].last_error == "answered 502");
    CHECK_FALSE(view[1].ejected);
    CHECK(view[1].ejections == 0);
}

TEST_CASE("upstream state: the first probe of an endpoint decides its health at once") {
    auto upstream = upstream_with({8001, 8002});
    upstream.health_check = health_check(2, 3);
    UpstreamState state("backend");
    const auto endpoints = state.endpoints_for(upstream, true);
    const auto now = SteadyClock::now();

    CHECK(endpoints[0]->health() == ProbeHealth::unknown);
    CHECK(endpoints[0]->available(now));  // not probed yet: it takes traffic
    state.record_probe(*endpoints[0], upstream, true, "");
    state.record_probe(*endpoints[1], upstream, false, "timed out");
    CHECK(endpoints[0]->health() == ProbeHealth::healthy);
    CHECK(endpoints[1]->health() == ProbeHealth::unhealthy);
    CHECK_FALSE(endpoints[1]->available(now));
    const auto view = state.view(now);
    CHECK(view[1].health == ProbeHealth::unhealthy);
    CHECK(view[1].last_error == "timed out");
    CHECK(view[0].last_error.empty());
}

TEST_CASE("upstream state: unhealthy_threshold failed probes in a row make a healthy endpoint unhealthy") {
    auto upstream = upstream_with({8001});
    upstream.health_check = health_check(2, 3);
    UpstreamState state("backend");
    const auto endpoints = state.endpoints_for(upstream, true);
    EndpointState& endpoint = *endpoints[0];

    state.record_probe(endpoint, upstream, true, "");
    REQUIRE(endpoint.health() == ProbeHealth::healthy);
    state.record_probe(endpoint, upstream, false, "answered 500");
    state.record_probe(endpoint, upstream, false, "answered 500");
    CHECK(endpoint.health() == ProbeHealth::healthy);
    state.record_probe(endpoint, upstream, true, "");  // disagrees: the streak starts again
    state.record_probe(endpoint, upstream, false, "answered 500");
    state.record_probe(endpoint, upstream, false, "answered 500");
    CHECK(endpoint.health() == ProbeHealth::healthy);
    state.record_probe(endpoint, upstream, false, "answered 500");
    CHECK(endpoint.health() == ProbeHealth::unhealthy);
}

TEST_CASE("upstream state: healthy_threshold passed probes in a row make an unhealthy endpoint healthy") {
    auto upstream = upstream_with({8001});
    upstream.health_check = health_check(3, 2);
    UpstreamState state("backend");
    const auto endpoints = state.endpoints_for(upstream, true);
    EndpointState& endpoint = *endpoints[0];

    state.record_probe(endpoint, upstream, false, "refused");
    REQUIRE(endpoint.health() == ProbeHealth::unhealthy);
    state.record_probe(endpoint, upstream, true, "");
    state.record_probe(endpoint, upstream, true, "");
    CHECK(endpoint.health() == ProbeHealth::unhealthy);
    state.record_probe(endpoint, upstream, false, "refused");  // the streak starts again
    state.record_probe(endpoint, upstream, true, "");
    state.record_probe(endpoint, upstream, true, "");
    CHECK(endpoint.health() == ProbeHealth::unhealthy);
    state.record_probe(endpoint, upstream, true, "");
    CHECK(endpoint.health() == ProbeHealth::healthy);
    CHECK(endpoint.available(SteadyClock::now()));
}

TEST_CASE("upstream state: a passed probe ends an ejection at once") {
    auto upstream = upstream_with({8001, 8002});
    upstream.outlier_detection = outlier(2, 60s, 100);
    upstream.health_check = health_check(2, 3);
    UpstreamState state("backend");
    const auto endpoints = state.endpoints_for(upstream, true);
    const auto now = SteadyClock::now();  // record_probe reads the clock itself

    state.record_probe(*endpoints[0], upstream, true, "");
    fail(state, *endpoints[0], upstream, now, 2);
    REQUIRE(endpoints[0]->ejected(now));
    state.record_probe(*endpoints[0], upstream, false, "refused");  // a failed one does not
    CHECK(endpoints[0]->ejected(now));
    state.record_probe(*endpoints[0], upstream, true, "");
    CHECK_FALSE(endpoints[0]->ejected(now));
    CHECK(endpoints[0]->available(now));
    CHECK(state.view(now)[0].consecutive_failures == 0);
}

TEST_CASE("upstream state: a reload keeps the state of an endpoint that stays, by HOST:PORT") {
    auto upstream = upstream_with({8001, 8002});
    upstream.outlier_detection = outlier(1, 10s, 100);
    UpstreamState state("backend");
    const auto before = state.endpoints_for(upstream, true);
    const auto now = SteadyClock::now();
    fail(state, *before[1], upstream, now);
    REQUIRE(before[1]->ejected(now));

    const auto again = state.endpoints_for(upstream, true);
    CHECK(again[0] == before[0]);
    CHECK(again[1] == before[1]);

    auto reloaded = upstream_with({8002, 8003});  // 8001 goes, 8003 comes
    reloaded.outlier_detection = upstream.outlier_detection;
    const auto after = state.endpoints_for(reloaded, true);
    REQUIRE(after.size() == 2);
    CHECK(after[0] == before[1]);
    CHECK(after[0]->name() == "10.0.0.1:8002");
    CHECK(after[0]->ejected(now));
    CHECK(after[1] != before[0]);
    CHECK(after[1]->name() == "10.0.0.1:8003");
    const auto view = state.view(now);
    REQUIRE(view.size() == 2);
    CHECK(view[0].name == "10.0.0.1:8002");
    CHECK(view[0].ejected);
    CHECK(view[1].name == "10.0.0.1:8003");
    CHECK_FALSE(view[1].ejected);
}

TEST_CASE("upstream state: endpoints_for without adopt leaves the upstream's endpoints as they were") {
    const auto upstream = upstream_with({8001, 8002});
    UpstreamState state("backend");
    const auto adopted = state.endpoints_for(upstream, true);

    const auto older = upstream_with({8002, 8009});
    const auto looked_up = state.endpoints_for(older, false);
    REQUIRE(looked_up.size() == 2);
    CHECK(looked_up[0] == adopted[1]);  // a known one is shared
    CHECK(looked_up[1]->name() == "10.0.0.1:8009");
    const auto view = state.view(SteadyClock::now());
    REQUIRE(view.size() == 2);
    CHECK(view[0].name == "10.0.0.1:8001");
    CHECK(view[1].name == "10.0.0.1:8002");
}

TEST_CASE("upstream state: an endpoint listed twice is one state") {
    const auto upstream = upstream_with({8001, 8001});
    UpstreamState state("backend");
    const auto endpoints = state.endpoints_for(upstream, true);
    REQUIRE(endpoints.size() == 2);
    CHECK(endpoints[0] == endpoints[1]);
    CHECK(state.view(SteadyClock::now()).size() == 1);
}

TEST_CASE("upstream state: has_healthy_endpoint without health checks counts endpoints not ejected") {
    auto upstream = upstream_with({8001, 8002});
    upstream.outlier_detection = outlier(1, 10s, 100);
    UpstreamState state("backend");
    const auto now = SteadyClock::now();
    CHECK_FALSE(state.has_healthy_endpoint(false, now));  // no endpoints adopted yet
    const auto endpoints = state.endpoints_for(upstream, true);

    CHECK(state.has_healthy_endpoint(false, now));
    fail(state, *endpoints[0], upstream, now);
    CHECK(state.has_healthy_endpoint(false, now));
    fail(state, *endpoints[1], upstream, now);
    CHECK_FALSE(state.has_healthy_endpoint(false, now));
    CHECK(state.has_healthy_endpoint(false, now + 10s));
}

TEST_CASE("upstream state: has_healthy_endpoint with health checks needs a passed probe") {
    auto upstream = upstream_with({8001, 8002});
    upstream.health_check = health_check(1, 1);
    UpstreamState state("backend");
    const auto endpoints = state.endpoints_for(upstream, true);
    const auto now = SteadyClock::now();

    CHECK_FALSE(state.has_healthy_endpoint(true, now));  // neither probed yet
    CHECK(state.has_healthy_endpoint(false, now));
    state.record_probe(*endpoints[0], upstream, false, "refused");
    CHECK_FALSE(state.has_healthy_endpoint(true, now));
    state.record_probe(*endpoints[1], upstream, true, "");
    CHECK(state.has_healthy_endpoint(true, now));
    state.record_probe(*endpoints[1], upstream, false, "refused");
    CHECK_FALSE(state.has_healthy_endpoint(true, now));
    CHECK_FALSE(state.has_healthy_endpoint(false, now));
}

TEST_CASE("upstream states: the same name gives the same state; retain drops the names a config lost") {
    UpstreamStates states;
    const auto users = states.get("users");
    const auto orders = states.get("orders");
    CHECK(users != orders);
    CHECK(states.get("users") == users);
    CHECK(users->name() == "users");
    CHECK(states.all().size() == 2);

    Config config;
    config.upstreams.push_back(upstream_with({8001}));
    config.upstreams.back().name = "orders";
    states.retain(config);
    const auto all = states.all();
    REQUIRE(all.size() == 1);
    CHECK(all[0] == orders);
    CHECK(states.get("orders") == orders);
    const auto fresh = states.get("users");
    CHECK(fresh != users);
    CHECK(fresh->name() == "users");
}

TEST_CASE("upstream state: after three times its last ejection in service, an endpoint's next ejection is base length again") {
    auto upstream = upstream_with({8001, 8002});
    upstream.outlier_detection = outlier(1, 1000ms, 100);
    UpstreamState state("backend");
    const auto endpoints = state.endpoints_for(upstream, true);
    auto now = SteadyClock::now();

    fail(state, *endpoints[0], upstream, now);
    now += 1000ms;
    fail(state, *endpoints[0], upstream, now);
    REQUIRE(state.view(now)[0].ejected_for == 2000ms);
    now += 2000ms + 6000ms;  // in service exactly three times 2000 ms: not yet forgiven
    fail(state, *endpoints[0], upstream, now);
    CHECK(state.view(now)[0].ejected_for == 4000ms);
    now += 4000ms + 12000ms + 1ms;  // a little longer than three times 4000 ms
    fail(state, *endpoints[0], upstream, now);
    CHECK(state.view(now)[0].ejected_for == 1000ms);
}

TEST_CASE("upstream state: an ejection a passed probe ended still doubles the next one") {
    auto upstream = upstream_with({8001, 8002});
    upstream.outlier_detection = outlier(1, 10s, 100);
    upstream.health_check = health_check(1, 1);
    UpstreamState state("backend");
    const auto endpoints = state.endpoints_for(upstream, true);
    const auto now = SteadyClock::now();

    fail(state, *endpoints[0], upstream, now);
    REQUIRE(state.view(now)[0].ejected_for == 10s);
    state.record_probe(*endpoints[0], upstream, true, "");
    REQUIRE_FALSE(endpoints[0]->ejected(now));
    // Back in service for no time at all, it fails again: nothing to forgive yet.
    fail(state, *endpoints[0], upstream, now);
    CHECK(state.view(now)[0].ejected_for == 20s);
}
