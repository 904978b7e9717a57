#pragma once

// Real redis-server processes for the global rate-limit tests: one server (optionally with a
// password), or a six-node Redis Cluster (three masters, one replica each). Every wait has a
// deadline; nothing sleeps for readiness. The destructors never leave a redis-server behind.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace test_support {

inline constexpr const char* kRedisServerBin = "/usr/bin/redis-server";
inline constexpr const char* kRedisCliBin = "/usr/bin/redis-cli";

struct RedisOptions {
    /// --requirepass: clients must AUTH with it (command() does).
    std::optional<std::string> password;
    /// --cluster-enabled yes, with its own cluster config file and a 2 s node timeout.
    bool cluster = false;
    /// More `--name value` arguments for redis-server.
    std::vector<std::string> extra_args;
};

/// One redis-server on 127.0.0.1, on a free port below 55000 whose cluster bus port
/// (port + 10000) was free too, with its own temporary --dir, no persistence. Ready (answers
/// PING) when the constructor returns.
class RedisServer {
public:
    explicit RedisServer(RedisOptions options = {});
    ~RedisServer();
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    /// "127.0.0.1:PORT".
    std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
    /// The server's pid, -1 while stopped.
    pid_t pid() const noexcept { return process_ ? process_->pid() : -1; }
    const RedisOptions& options() const noexcept { return options_; }

    /// SIGSTOP: the kernel still accepts connections and buffers requests, nothing answers.
    void pause();
    /// SIGCONT.
    void resume();
    bool paused() const noexcept { return paused_; }
    /// Stops the server (SIGCONT first if paused, then SIGTERM, then SIGKILL) and waits for it to
    /// exit: the port then refuses connections. Idempotent.
    void stop();
    /// Stops it if running, then starts it again on the same port with the same options (and
    /// the same --dir, so a cluster node keeps its identity); returns when it answers PING.
    void restart();
    bool running() const noexcept { return process_ != nullptr; }

    /// Runs `redis-cli -h 127.0.0.1 -p PORT [-a PASSWORD --no-auth-warning] args...` and answers
    /// its stdout, trimmed (redis-cli prints raw replies when stdout is not a terminal: an
    /// error reply comes back as its text, e.g. "ERR unknown command ..."). Throws
    /// std::runtime_error when redis-cli does not finish within `timeout` or exits non-zero
    /// (e.g. connection refused).
    std::string command(std::vector<std::string> args,
                        std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) const;
    /// The same without throwing: redis-cli's exit code (-1: killed at the timeout) and outputs.
    RunResult try_command(std::vector<std::string> args,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(5000),
                          bool authenticate = true) const;

    /// The redis-server log (its --logfile), for failure messages.
    std::string log() const;

private:
    /// Spawns redis-server on port_; true when it answers PING before the deadline, false when
    /// it exited first (e.g. the port was taken meanwhile). Throws when it hangs unready.
    bool start();

    RedisOptions options_;
    std::filesystem::path dir_;
    std::uint16_t port_ = 0;
    std::unique_ptr<ChildProcess> process_;
    bool paused_ = false;
};

/// Six RedisServer nodes in cluster mode joined by `redis-cli --cluster create
/// --cluster-replicas 1`: three masters with one replica each. Ready when the constructor
/// returns: cluster_state:ok on every node, every node sees the same slot owners, and every
/// replica's link to its master is up.
class RedisCluster {
public:
    static constexpr int kNodes = 6;

    RedisCluster();
    RedisCluster(const RedisCluster&) = delete;
    RedisCluster& operator=(const RedisCluster&) = delete;

    /// Every node's "127.0.0.1:PORT".
    std::vector<std::string> seed_endpoints() const;
    /// The current masters' "127.0.0.1:PORT".
    std::vector<std::string> master_endpoints() const;
    std::vector<std::unique_ptr<RedisServer>>& nodes() { return nodes_; }
    RedisServer& node(std::size_t i) { return *nodes_.at(i); }

    /// CLUSTER KEYSLOT key (the hash tag's slot when the key has one).
    int slot_of(const std::string& key) const;
    /// The node currently serving `slot` as master.
    RedisServer& master_for_slot(int slot);
    /// The (first) replica of `master`.
    RedisServer& replica_of(const RedisServer& master);
    /// CLUSTER FAILOVER on `master`'s replica; returns once that replica reports role master,
    /// the old master reports role slave, every node is cluster_state:ok and agrees on the
    /// slots. Answers the new master.
    RedisServer& failover(const RedisServer& master,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(15000));

    /// True when every node says cluster_state:ok and all describe the same slot owners.
    bool settled() const;

private:
    struct NodeLine {
        std::string id;
        std::uint16_t port = 0;
        bool master = false;
        bool failing = false;
        std::string master_id;                  // for a replica
        std::vector<std::pair<int, int>> slots;  // for a master: ranges, inclusive
    };
    /// CLUSTER NODES as `node` sees it.
    std::vector<NodeLine> nodes_seen_by(const RedisServer& node) const;
    bool settled_or_throw() const;
    /// A canonical "from-to:port ..." description of the slot owners `node` sees.
    std::string slot_map_seen_by(const RedisServer& node) const;
    RedisServer& node_on_port(std::uint16_t port);
    /// The first running, unpaused node, to ask about the cluster.
    const RedisServer& any_node() const;
    /// Waits until settled() (and, when `replicas_linked`, every replica's master link is up).
    void await_settled(Clock::time_point deadline, bool replicas_linked, const std::string& what);

    std::vector<std::unique_ptr<RedisServer>> nodes_;
};

/// The value of `field` in an INFO / CLUSTER INFO text ("field:value" lines), empty if absent.
std::string info_field(const std::string& info, const std::string& field);

}  // namespace test_support
