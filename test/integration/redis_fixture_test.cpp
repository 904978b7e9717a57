// The Redis test fixtures themselves (support/redis_server.hpp): a real redis-server that
// answers, requires its password, pauses, stops and comes back on its port, never outlives its
// fixture; and a six-node Redis Cluster that settles and fails over. The global rate-limit
// tests rely on each of these behaviours.
#include <catch2/catch.hpp>

#include <signal.h>

#include <cerrno>

#include "support/redis_server.hpp"

using namespace test_support;
using Catch::Matchers::Contains;
using std::chrono::milliseconds;

namespace {

/// True while a process with this pid exists (a reaped child no longer does).
bool alive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

}  // namespace

TEST_CASE("redis fixture: a server answers PING on its loopback port, stores keys, and restarts empty on the same port") {
    RedisServer redis;
    CHECK(redis.port() > 0);
    CHECK(redis.port() < 55000);
    CHECK(redis.endpoint() == "127.0.0.1:" + std::to_string(redis.port()));
    CHECK(redis.command({"PING"}) == "PONG");
    CHECK(redis.command({"SET", "k", "v", "PX", "60000"}) == "OK");
    CHECK(redis.command({"GET", "k"}) == "v");
    CHECK(std::stol(redis.command({"PTTL", "k"})) > 0);
    CHECK(redis.command({"CONFIG", "GET", "save"}) == "save");  // and an empty value: no snapshots
    CHECK(redis.command({"CONFIG", "GET", "appendonly"}) == "appendonly\nno");

    const std::uint16_t port = redis.port();
    const pid_t first = redis.pid();
    redis.stop();
    CHECK_FALSE(alive(first));
    const auto refused = redis.try_command({"PING"});
    CHECK(refused.exit_code != 0);
    CHECK_THAT(refused.out + refused.err, Contains("Connection refused"));

    redis.restart();
    CHECK(redis.port() == port);
    CHECK(redis.command({"PING"}) == "PONG");
    CHECK(redis.command({"EXISTS", "k"}) == "0");  // no persistence: a restart starts empty
}

TEST_CASE("redis fixture: with a password, commands without AUTH are refused and command() authenticates") {
    RedisOptions options;
    options.password = "fixture-secret";
    RedisServer redis(options);
    CHECK(redis.command({"PING"}) == "PONG");
    const auto anonymous = redis.try_command({"PING"}, milliseconds(5000), false);
    CHECK_THAT(anonymous.out, Contains("NOAUTH"));
    redis.restart();
    CHECK(redis.try_command({"PING"}, milliseconds(5000), false).out.find("NOAUTH") != std::string::npos);
    CHECK(redis.command({"PING"}) == "PONG");
}

TEST_CASE("redis fixture: a paused server accepts but does not answer until resumed, and a paused server is not left behind") {
    pid_t pid = -1;
    {
        RedisServer redis;
        pid = redis.pid();
        redis.pause();
        CHECK(redis.paused());
        const auto start = Clock::now();
        const auto silent = redis.try_command({"PING"}, milliseconds(300));
        CHECK(silent.exit_code == -1);  // killed at the timeout: no answer, no refusal
        CHECK(Clock::now() - start >= milliseconds(300));
        redis.resume();
        CHECK(redis.command({"PING"}) == "PONG");
        redis.pause();  // and the destructor must still get rid of it
    }
    CHECK_FALSE(alive(pid));
}

TEST_CASE("redis fixture: a six-node cluster settles with three masters, and a failover flips master and replica") {
    RedisCluster cluster;
    CHECK(cluster.seed_endpoints().size() == 6);
    REQUIRE(cluster.master_endpoints().size() == 3);
    for (auto& node : cluster.nodes()) {
        CHECK(info_field(node->command({"CLUSTER", "INFO"}), "cluster_state") == "ok");
    }
    // The hash tag decides the slot: the key of a route-keyed global limit lives in the slot of
    // its route's name.
    const int slot = cluster.slot_of("gateway:rl:{get-account-penalties}");
    CHECK(slot == cluster.slot_of("get-account-penalties"));
    CHECK(slot >= 0);
    CHECK(slot < 16384);

    RedisServer& master = cluster.master_for_slot(slot);
    RedisServer& replica = cluster.replica_of(master);
    CHECK(&master != &replica);
    CHECK(info_field(master.command({"INFO", "replication"}), "role") == "master");
    CHECK(info_field(replica.command({"INFO", "replication"}), "role") == "slave");
    // A write through the master reaches its replica.
    CHECK(master.command({"SET", "{get-account-penalties}probe", "1"}) == "OK");
    CHECK(master.command({"WAIT", "1", "2000"}) == "1");

    RedisServer& promoted = cluster.failover(master);
    CHECK(&promoted == &replica);
    CHECK(info_field(replica.command({"INFO", "replication"}), "role") == "master");
    CHECK(info_field(master.command({"INFO", "replication"}), "role") == "slave");
    CHECK(&cluster.master_for_slot(slot) == &replica);
    CHECK(cluster.settled());
    // The old master now redirects writes for the slot (MOVED), the new one serves them.
    CHECK_THAT(master.command({"GET", "{get-account-penalties}probe"}), Contains("MOVED " + std::to_string(slot)));
    CHECK(replica.command({"GET", "{get-account-penalties}probe"}) == "1");
}
