#include "support/redis_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace test_support {
namespace {

constexpr std::chrono::milliseconds kRedisStartupTimeout{10000};
constexpr std::chrono::milliseconds kPollInterval{20};
/// Cluster bus ports are the client port + 10000: the client port stays below this.
constexpr int kHighestPort = 55000;

std::string trim(std::string text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    const auto last = text.find_last_not_of(" \t\r\n");
    return text.substr(first, last - first + 1);
}

/// A socket bound to 127.0.0.1:port (0: the OS chooses), or -1 when the port is taken.
int bind_loopback(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

std::uint16_t bound_port(int fd) {
    sockaddr_in address{};
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    return ntohs(address.sin_port);
}

/// A port the OS hands out for bind(0), as the gateway's and the mock's port 0 do, below
/// kHighestPort and with port + 10000 free as well (the cluster bus port). The sockets are
/// closed again before the server binds: start() retries with another port if someone took it
/// in between.
std::uint16_t pick_free_port() {
    for (int attempt = 0; attempt < 500; ++attempt) {
        const int fd = bind_loopback(0);
        if (fd < 0) continue;
        const std::uint16_t port = bound_port(fd);
        bool good = port > 0 && port < kHighestPort;
        if (good) {
            const int bus = bind_loopback(static_cast<std::uint16_t>(port + 10000));
            good = bus >= 0;
            if (bus >= 0) ::close(bus);
        }
        ::close(fd);
        if (good) return port;
    }
    throw std::runtime_error("no free port pair (P, P + 10000) below 55000 on 127.0.0.1");
}

/// The state letter of /proc/PID/stat ('T' when stopped), or 0 when unreadable.
char process_state(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto paren = text.rfind(')');
    if (paren == std::string::npos || paren + 2 >= text.size()) return 0;
    return text[paren + 2];
}

template <typename Condition>
bool wait_until(Condition condition, Clock::time_point deadline) {
    while (true) {
        if (condition()) return true;
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(kPollInterval);
    }
}

std::filesystem::path make_temp_dir() {
    std::random_device random;
    auto dir = std::filesystem::temp_directory_path() /
               ("gateway-redis-" + std::to_string(random()) + "-" + std::to_string(random()));
    std::filesystem::create_directories(dir);
    return dir;
}

}  // namespace

std::string info_field(const std::string& info, const std::string& field) {
    const std::string key = field + ":";
    std::size_t at = 0;
    while (at < info.size()) {
        const auto end = info.find('\n', at);
        const std::string line = info.substr(at, end == std::string::npos ? std::string::npos : end - at);
        if (line.compare(0, key.size(), key) == 0) return trim(line.substr(key.size()));
        if (end == std::string::npos) break;
        at = end + 1;
    }
    return {};
}

// ---------------------------------------------------------------------------------------------
// RedisServer

RedisServer::RedisServer(RedisOptions options) : options_(std::move(options)), dir_(make_temp_dir()) {
    try {
        for (int attempt = 0; attempt < 20; ++attempt) {
            port_ = pick_free_port();
            if (start()) return;
        }
        throw std::runtime_error("redis-server did not start after 20 ports; log:\n" + log());
    } catch (...) {
        stop();
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
        throw;
    }
}

RedisServer::~RedisServer() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

bool RedisServer::start() {
    std::vector<std::string> args = {
        "--port", std::to_string(port_),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
        "--dir", dir_.string(),
        // The log goes to a file, not to the stdout pipe nobody drains while the test runs.
        "--logfile", (dir_ / "redis.log").string(),
    };
    if (options_.password) {
        args.insert(args.end(), {"--requirepass", *options_.password});
    }
    if (options_.cluster) {
        args.insert(args.end(), {"--cluster-enabled", "yes",
                                 "--cluster-config-file", (dir_ / "nodes.conf").string(),
                                 "--cluster-node-timeout", "2000"});
    }
    args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
    process_ = std::make_unique<ChildProcess>(kRedisServerBin, std::move(args));
    paused_ = false;

    const auto deadline = deadline_in(kRedisStartupTimeout);
    while (true) {
        if (!process_->running()) {  // exited: typically the port (or its bus port) was taken
            process_.reset();
            return false;
        }
        const auto ping = try_command({"PING"}, std::chrono::milliseconds(2000));
        if (ping.exit_code == 0 && trim(ping.out) == "PONG") return true;
        if (Clock::now() >= deadline) {
            stop();
            throw std::runtime_error("redis-server on port " + std::to_string(port_) +
                                     " did not answer PING within 10 s; log:\n" + log());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

void RedisServer::pause() {
    if (!process_ || paused_) return;
    if (::kill(process_->pid(), SIGSTOP) != 0) throw std::runtime_error("SIGSTOP redis-server failed");
    paused_ = true;
    // SIGSTOP is asynchronous: return only once the process is really stopped.
    if (!wait_until([&] { return process_state(process_->pid()) == 'T'; }, deadline_in(std::chrono::milliseconds(2000)))) {
        throw std::runtime_error("redis-server did not stop on SIGSTOP");
    }
}

void RedisServer::resume() {
    if (!process_ || !paused_) return;
    ::kill(process_->pid(), SIGCONT);
    paused_ = false;
    wait_until([&] { return process_state(process_->pid()) != 'T'; }, deadline_in(std::chrono::milliseconds(2000)));
}

void RedisServer::stop() {
    if (!process_) return;
    // A stopped process would not act on SIGTERM until the grace period ran out.
    if (paused_) ::kill(process_->pid(), SIGCONT);
    paused_ = false;
    process_->stop();  // SIGTERM, bounded wait, SIGKILL; reaps it
    process_.reset();
}

void RedisServer::restart() {
    stop();
    const auto deadline = deadline_in(kRedisStartupTimeout);
    while (!start()) {
        // The port was taken meanwhile (or is briefly unavailable): try again until the deadline.
        if (Clock::now() >= deadline) {
            throw std::runtime_error("redis-server could not restart on port " + std::to_string(port_) +
                                     "; log:\n" + log());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

RunResult RedisServer::try_command(std::vector<std::string> args, std::chrono::milliseconds timeout,
                                   bool authenticate) const {
    std::vector<std::string> full = {"-h", "127.0.0.1", "-p", std::to_string(port_)};
    if (authenticate && options_.password) {
        full.insert(full.end(), {"-a", *options_.password, "--no-auth-warning"});
    }
    full.insert(full.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
    return run_to_completion(kRedisCliBin, full, timeout);
}

std::string RedisServer::command(std::vector<std::string> args, std::chrono::milliseconds timeout) const {
    std::string shown;
    for (const auto& arg : args) shown += " " + arg;
    const auto result = try_command(std::move(args), timeout);
    if (result.exit_code != 0) {
        throw std::runtime_error("redis-cli -p " + std::to_string(port_) + shown + ": " +
                                 (result.exit_code < 0 ? std::string("no answer in time")
                                                       : "exit " + std::to_string(result.exit_code)) +
                                 "; stdout: " + result.out + "; stderr: " + result.err);
    }
    return trim(result.out);
}

std::string RedisServer::log() const {
    std::ifstream in(dir_ / "redis.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// ---------------------------------------------------------------------------------------------
// RedisCluster

RedisCluster::RedisCluster() {
    RedisOptions options;
    options.cluster = true;
    for (int i = 0; i < kNodes; ++i) nodes_.push_back(std::make_unique<RedisServer>(options));
    std::vector<std::string> args = {"--cluster", "create"};
    for (const auto& endpoint : seed_endpoints()) args.push_back(endpoint);
    args.insert(args.end(), {"--cluster-replicas", "1", "--cluster-yes"});
    const auto created = run_to_completion(kRedisCliBin, args, std::chrono::milliseconds(30000));
    if (created.exit_code != 0 || created.out.find("All 16384 slots covered") == std::string::npos) {
        throw std::runtime_error("redis-cli --cluster create failed (exit " + std::to_string(created.exit_code) +
                                 "):\n" + created.out + created.err);
    }
    await_settled(deadline_in(std::chrono::milliseconds(30000)), true, "the new cluster");
}

std::vector<std::string> RedisCluster::seed_endpoints() const {
    std::vector<std::string> endpoints;
    for (const auto& node : nodes_) endpoints.push_back(node->endpoint());
    return endpoints;
}

std::vector<std::string> RedisCluster::master_endpoints() const {
    std::vector<std::string> endpoints;
    for (const auto& line : nodes_seen_by(any_node())) {
        if (line.master && !line.failing && !line.slots.empty()) {
            endpoints.push_back("127.0.0.1:" + std::to_string(line.port));
        }
    }
    return endpoints;
}

const RedisServer& RedisCluster::any_node() const {
    for (const auto& node : nodes_) {
        if (node->running() && !node->paused()) return *node;
    }
    throw std::runtime_error("no cluster node is running");
}

RedisServer& RedisCluster::node_on_port(std::uint16_t port) {
    for (auto& node : nodes_) {
        if (node->port() == port) return *node;
    }
    throw std::runtime_error("no cluster node on port " + std::to_string(port));
}

int RedisCluster::slot_of(const std::string& key) const {
    return std::stoi(any_node().command({"CLUSTER", "KEYSLOT", key}));
}

std::vector<RedisCluster::NodeLine> RedisCluster::nodes_seen_by(const RedisServer& node) const {
    // <id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent> <pong-recv> <config-epoch>
    // <link-state> <slot> ... <slot>
    std::vector<NodeLine> lines;
    std::istringstream in(node.command({"CLUSTER", "NODES"}));
    for (std::string text; std::getline(in, text);) {
        std::istringstream fields(trim(text));
        NodeLine line;
        std::string address, flags, ping, pong, epoch, link;
        if (!(fields >> line.id >> address >> flags >> line.master_id >> ping >> pong >> epoch >> link)) continue;
        const auto colon = address.rfind(':', address.find('@'));
        if (colon == std::string::npos) continue;
        line.port = static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1)));
        const std::string padded = "," + flags + ",";
        line.master = padded.find(",master,") != std::string::npos;
        line.failing = padded.find(",fail,") != std::string::npos ||
                       padded.find(",fail?,") != std::string::npos ||
                       padded.find(",handshake,") != std::string::npos ||
                       padded.find(",noaddr,") != std::string::npos;
        for (std::string slot; fields >> slot;) {
            if (slot.empty() || slot[0] == '[') continue;  // a migration in progress
            const auto dash = slot.find('-');
            const int from = std::stoi(slot.substr(0, dash));
            const int to = dash == std::string::npos ? from : std::stoi(slot.substr(dash + 1));
            line.slots.emplace_back(from, to);
        }
        lines.push_back(std::move(line));
    }
    return lines;
}

std::string RedisCluster::slot_map_seen_by(const RedisServer& node) const {
    std::vector<std::string> entries;
    int covered = 0;
    for (const auto& line : nodes_seen_by(node)) {
        if (!line.master || line.failing) continue;
        for (const auto& [from, to] : line.slots) {
            entries.push_back(std::to_string(from) + "-" + std::to_string(to) + ":" + std::to_string(line.port));
            covered += to - from + 1;
        }
    }
    if (covered != 16384) return {};  // not every slot has a live master: not a settled map
    std::sort(entries.begin(), entries.end());
    std::string map;
    for (const auto& entry : entries) map += entry + " ";
    return map;
}

bool RedisCluster::settled() const {
    try {
        return settled_or_throw();
    } catch (const std::exception&) {
        return false;  // a node did not answer (yet): not settled
    }
}

bool RedisCluster::settled_or_throw() const {
    std::string first_map;
    for (const auto& node : nodes_) {
        if (!node->running() || node->paused()) return false;
        const auto info = node->try_command({"CLUSTER", "INFO"}, std::chrono::milliseconds(2000));
        if (info.exit_code != 0 || info_field(info.out, "cluster_state") != "ok") return false;
        if (info_field(info.out, "cluster_known_nodes") != std::to_string(kNodes)) return false;
        const std::string map = slot_map_seen_by(*node);
        if (map.empty()) return false;
        if (first_map.empty()) first_map = map;
        if (map != first_map) return false;
    }
    return true;
}

void RedisCluster::await_settled(Clock::time_point deadline, bool replicas_linked, const std::string& what) {
    const bool ok = wait_until(
        [&] {
            if (!settled()) return false;
            if (!replicas_linked) return true;
            for (const auto& node : nodes_) {
                const auto replication = node->try_command({"INFO", "replication"}, std::chrono::milliseconds(2000));
                if (replication.exit_code != 0) return false;
                if (info_field(replication.out, "role") == "slave" &&
                    info_field(replication.out, "master_link_status") != "up") {
                    return false;
                }
            }
            return true;
        },
        deadline);
    if (!ok) {
        std::string views;
        for (const auto& node : nodes_) {
            const auto seen = node->try_command({"CLUSTER", "NODES"}, std::chrono::milliseconds(2000));
            views += "--- " + node->endpoint() + ":\n" + seen.out;
        }
        throw std::runtime_error(what + " did not settle (cluster_state:ok and one slot map everywhere):\n" + views);
    }
}

RedisServer& RedisCluster::master_for_slot(int slot) {
    for (const auto& line : nodes_seen_by(any_node())) {
        if (!line.master || line.failing) continue;
        for (const auto& [from, to] : line.slots) {
            if (slot >= from && slot <= to) return node_on_port(line.port);
        }
    }
    throw std::runtime_error("no master serves slot " + std::to_string(slot));
}

RedisServer& RedisCluster::replica_of(const RedisServer& master) {
    const auto lines = nodes_seen_by(any_node());
    std::string master_id;
    for (const auto& line : lines) {
        if (line.port == master.port()) master_id = line.id;
    }
    if (master_id.empty()) throw std::runtime_error("node " + master.endpoint() + " is not in the cluster");
    for (const auto& line : lines) {
        if (!line.master && !line.failing && line.master_id == master_id) return node_on_port(line.port);
    }
    throw std::runtime_error("master " + master.endpoint() + " has no replica");
}

RedisServer& RedisCluster::failover(const RedisServer& master, std::chrono::milliseconds timeout) {
    RedisServer& replica = replica_of(master);
    const std::string answer = replica.command({"CLUSTER", "FAILOVER"});
    if (answer != "OK") throw std::runtime_error("CLUSTER FAILOVER on " + replica.endpoint() + ": " + answer);
    const auto deadline = deadline_in(timeout);
    const bool flipped = wait_until(
        [&] {
            const auto promoted = replica.try_command({"INFO", "replication"}, std::chrono::milliseconds(2000));
            const auto demoted = master.try_command({"INFO", "replication"}, std::chrono::milliseconds(2000));
            return info_field(promoted.out, "role") == "master" && info_field(demoted.out, "role") == "slave";
        },
        deadline);
    if (!flipped) {
        throw std::runtime_error("failover of " + master.endpoint() + " to " + replica.endpoint() +
                                 " did not flip the roles in time");
    }
    await_settled(deadline, true, "the cluster after the failover to " + replica.endpoint());
    return replica;
}

}  // namespace test_support
