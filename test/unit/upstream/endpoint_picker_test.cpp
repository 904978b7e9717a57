#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "upstream/endpoint_picker.hpp"

using namespace gateway;
using namespace std::chrono_literals;

namespace {

/// An upstream of `count` endpoints whose states a test can eject or fail.
struct Endpoints {
    explicit Endpoints(std::size_t count) {
        upstream.name = "backend";
        for (std::size_t i = 0; i < count; ++i) {
            upstream.endpoints.push_back({"10.0.0.1", static_cast<std::uint16_t>(8001 + i)});
        }
        OutlierDetection outlier;
        outlier.consecutive_failures = 1;
        outlier.max_ejected_percent = 100;
        outlier.base_ejection = 30s;
        upstream.outlier_detection = outlier;
        upstream.health_check = HealthCheck{};
        states = state.endpoints_for(upstream, true);
    }
    void eject(std::size_t i) {
        state.record_failure(*states[i], upstream, "answered 503", now);
        REQUIRE(states[i]->ejected(now));
    }
    void fail_probe(std::size_t i) {
        state.record_probe(*states[i], upstream, false, "refused");
        REQUIRE(states[i]->health() == ProbeHealth::unhealthy);
    }
    EndpointChoice pick(std::optional<std::size_t> avoid = std::nullopt,
                        LoadBalancing balancing = LoadBalancing::round_robin,
                        std::uint64_t random = 0) {
        return pick_endpoint(states, balancing, turn, random, now, avoid);
    }

    UpstreamConfig upstream;
    UpstreamState state{"backend"};
    std::vector<std::shared_ptr<EndpointState>> states;
    std::size_t turn = 0;
    SteadyClock::time_point now = SteadyClock::now();
};

}  // namespace

TEST_CASE("endpoint picker: round robin takes the endpoints in turn") {
    Endpoints test(3);
    std::vector<std::size_t> picked;
    for (int i = 0; i < 6; ++i) {
        const auto choice = test.pick();
        CHECK_FALSE(choice.panic);
        picked.push_back(choice.index);
    }
    CHECK(picked == std::vector<std::size_t>{0, 1, 2, 0, 1, 2});
    CHECK(test.turn == 6);
}

TEST_CASE("endpoint picker: a retry takes no turn of its own") {
    Endpoints test(3);
    CHECK(test.pick().index == 0);
    const auto retry = test.pick(0);
    CHECK(retry.index == 1);
    CHECK(test.turn == 1);
    CHECK(test.pick().index == 1);
    CHECK(test.pick().index == 2);
    CHECK(test.turn == 3);
}

TEST_CASE("endpoint picker: round robin skips ejected and unhealthy endpoints") {
    Endpoints test(4);
    test.eject(1);
    test.fail_probe(3);
    std::map<std::size_t, int> picked;
    for (int i = 0; i < 40; ++i) {
        const auto choice = test.pick();
        CHECK_FALSE(choice.panic);
        ++picked[choice.index];
    }
    CHECK(picked.count(1) == 0);
    CHECK(picked.count(3) == 0);
    CHECK(picked[0] > 0);
    CHECK(picked[2] > 0);
}

TEST_CASE("endpoint picker: round robin shares evenly among the available endpoints when one is ejected") {
    Endpoints test(3);
    test.eject(1);
    std::map<std::size_t, int> picked;
    for (int i = 0; i < 60; ++i) ++picked[test.pick().index];
    CHECK(picked[1] == 0);
    CHECK(picked[0] == 30);
    CHECK(picked[2] == 30);
}

TEST_CASE("endpoint picker: an ejected endpoint takes traffic again once its ejection is over") {
    Endpoints test(2);
    test.eject(0);
    for (int i = 0; i < 4; ++i) CHECK(test.pick().index == 1);
    test.now += 30s;
    std::set<std::size_t> picked;
    for (int i = 0; i < 4; ++i) picked.insert(test.pick().index);
    CHECK(picked == std::set<std::size_t>{0, 1});
}

TEST_CASE("endpoint picker: a retry avoids the endpoint it comes from when another is available") {
    Endpoints test(3);
    for (std::size_t avoid = 0; avoid < 3; ++avoid) {
        for (int i = 0; i < 6; ++i) {
            const auto choice = test.pick(avoid);
            CHECK(choice.index != avoid);
            CHECK_FALSE(choice.panic);
        }
    }
    for (int i = 0; i < 6; ++i) {
        const auto choice = test.pick(0, LoadBalancing::least_request, 0x123456789abcdefULL * (i + 1));
        CHECK(choice.index != 0);
    }
}

TEST_CASE("endpoint picker: a retry goes back to the endpoint it comes from when it is the only one available") {
    Endpoints test(3);
    test.eject(0);
    test.fail_probe(2);
    for (int i = 0; i < 6; ++i) {
        const auto choice = test.pick(1);
        CHECK(choice.index == 1);
        CHECK_FALSE(choice.panic);
    }
    const auto least = test.pick(1, LoadBalancing::least_request, 7);
    CHECK(least.index == 1);
    CHECK_FALSE(least.panic);
}

TEST_CASE("endpoint picker: with no endpoint available it picks among all of them in panic") {
    Endpoints test(3);
    test.eject(0);
    test.eject(1);
    test.fail_probe(2);
    std::set<std::size_t> picked;
    for (int i = 0; i < 6; ++i) {
        const auto choice = test.pick();
        CHECK(choice.panic);
        picked.insert(choice.index);
    }
    CHECK(picked == std::set<std::size_t>{0, 1, 2});

    // A retry in panic still goes elsewhere.
    for (int i = 0; i < 6; ++i) {
        const auto choice = test.pick(2);
        CHECK(choice.panic);
        CHECK(choice.index != 2);
    }
    std::mt19937_64 random(42);
    for (int i = 0; i < 50; ++i) {
        const auto choice = test.pick(std::nullopt, LoadBalancing::least_request, random());
        CHECK(choice.panic);
        CHECK(choice.index < 3);
    }
}

TEST_CASE("endpoint picker: a single endpoint is index 0, in panic only when it is unavailable") {
    Endpoints test(1);
    auto choice = test.pick();
    CHECK(choice.index == 0);
    CHECK_FALSE(choice.panic);
    choice = test.pick(0, LoadBalancing::least_request, 99);
    CHECK(choice.index == 0);
    CHECK_FALSE(choice.panic);

    test.eject(0);
    choice = test.pick();
    CHECK(choice.index == 0);
    CHECK(choice.panic);
    choice = test.pick(0);
    CHECK(choice.index == 0);
    CHECK(choice.panic);

    Endpoints unhealthy(1);
    unhealthy.fail_probe(0);
    choice = unhealthy.pick(std::nullopt, LoadBalancing::least_request, 5);
    CHECK(choice.index == 0);
    CHECK(choice.panic);
}

TEST_CASE("endpoint picker: least_request never takes the busier of two endpoints") {
    Endpoints test(2);
    test.states[0]->in_flight = 5;
    test.states[1]->in_flight = 3;
    std::mt19937_64 random(1);
    for (int i = 0; i < 1000; ++i) {
        const auto choice = test.pick(std::nullopt, LoadBalancing::least_request, random());
        REQUIRE(choice.index == 1);
        CHECK_FALSE(choice.panic);
    }
    test.states[0]->in_flight = 0;
    for (int i = 0; i < 1000; ++i) {
        REQUIRE(test.pick(std::nullopt, LoadBalancing::least_request, random()).index == 0);
    }
}

TEST_CASE("endpoint picker: least_request compares two distinct endpoints, so the busiest of several is never taken") {
    Endpoints test(4);
    test.states[0]->in_flight = 2;
    test.states[1]->in_flight = 9;
    test.states[2]->in_flight = 1;
    test.states[3]->in_flight = 4;
    std::mt19937_64 random(7);
    std::map<std::size_t, int> picked;
    for (int i = 0; i < 2000; ++i) {
        ++picked[test.pick(std::nullopt, LoadBalancing::least_request, random()).index];
    }
    CHECK(picked.count(1) == 0);
    CHECK(picked[2] > picked[0]);  // the least busy wins every pair it is in
    CHECK(picked[0] > 0);
    CHECK(picked[3] > 0);
}

TEST_CASE("endpoint picker: least_request spreads requests over equally busy endpoints") {
    Endpoints test(3);
    std::mt19937_64 random(3);
    std::map<std::size_t, int> picked;
    for (int i = 0; i < 3000; ++i) {
        ++picked[test.pick(std::nullopt, LoadBalancing::least_request, random()).index];
    }
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(picked[i] > 800);
        CHECK(picked[i] < 1200);
    }
}

TEST_CASE("endpoint picker: least_request skips ejected and unhealthy endpoints however idle they are") {
    Endpoints test(4);
    test.eject(0);
    test.fail_probe(1);
    test.states[2]->in_flight = 50;
    test.states[3]->in_flight = 60;
    std::mt19937_64 random(11);
    std::map<std::size_t, int> picked;
    for (int i = 0; i < 500; ++i) {
        const auto choice = test.pick(std::nullopt, LoadBalancing::least_request, random());
        CHECK_FALSE(choice.panic);
        ++picked[choice.index];
    }
    CHECK(picked.count(0) == 0);
    CHECK(picked.count(1) == 0);
    CHECK(picked.count(3) == 0);
    CHECK(picked[2] == 500);
}
