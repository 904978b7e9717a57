// The Redis client against a scripted RESP server on the test's io_context: replies reach their
// callers in order however many are pipelined, a deadline is kept when the server stalls (and
// the late reply goes to nobody else), a lost or refused connection fails its callers at once
// and is made again in the background, AUTH goes first, and a cluster's MOVED and ASK are
// followed.
#include <catch2/catch.hpp>

#include <utility>  // before Asio's coroutine headers

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/resp.hpp"
#include "io/run_task.hpp"
#include "upstream/redis_client.hpp"

using namespace gateway;
using gateway::test::run_task;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

/// A Redis stand-in: reads commands (arrays of bulk strings) on every connection and writes
/// what `answer` says for each (nothing: stay silent). Records what it was sent.
class FakeRedis {
public:
    using Command = std::vector<std::string>;
    /// Bytes to write for `command` on connection number `connection`; nullopt: say nothing;
    /// "CLOSE": close the connection.
    using Answer = std::function<std::optional<std::string>(const Command& command, int connection)>;

    FakeRedis(asio::io_context& io, Answer answer)
        : acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}), answer_(std::move(answer)) {
        accept();
    }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::string endpoint() const { return "127.0.0.1:" + std::to_string(port()); }

    std::vector<std::pair<int, Command>> received;  // (connection, command), in arrival order
    int connections = 0;
    std::size_t reads_with_commands = 0;
    std::size_t most_commands_in_one_read = 0;

private:
    struct Peer {
        explicit Peer(asio::ip::tcp::socket s, int n) : socket(std::move(s)), number(n) {}
        asio::ip::tcp::socket socket;
        int number;
        std::string buffer;
        char chunk[4096];
    };

    void accept() {
        acceptor_.async_accept([this](const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
            if (ec) return;
            read(std::make_shared<Peer>(std::move(socket), connections++));
            accept();
        });
    }

    void read(std::shared_ptr<Peer> peer) {
        peer->socket.async_read_some(asio::buffer(peer->chunk), [this, peer](const boost::system::error_code& ec,
                                                                              std::size_t n) {
            if (ec) return;
            peer->buffer.append(peer->chunk, n);
            std::size_t commands = 0;
            std::string out;
            while (true) {
                auto parsed = RespParser::parse(peer->buffer);
                if (parsed.status != RespParser::Status::complete) break;
                peer->buffer.erase(0, parsed.consumed);
                Command command;
                for (const auto& element : parsed.reply.elements) command.push_back(element.text);
                received.emplace_back(peer->number, command);
                ++commands;
                const auto reply = answer_(command, peer->number);
                if (reply && *reply == "CLOSE") {
                    if (!out.empty()) asio::write(peer->socket, asio::buffer(out));
                    peer->socket.close();
                    return;
                }
                if (reply) out += *reply;
            }
            if (commands > 0) {
                ++reads_with_commands;
                most_commands_in_one_read = std::max(most_commands_in_one_read, commands);
            }
            if (!out.empty()) asio::write(peer->socket, asio::buffer(out));
            read(peer);
        });
    }

    asio::ip::tcp::acceptor acceptor_;
    Answer answer_;
};

std::string bulk(const std::string& text) { return "$" + std::to_string(text.size()) + "\r\n" + text + "\r\n"; }

std::shared_ptr<const RedisConfig> config_for(std::vector<std::uint16_t> ports, bool cluster = false,
                                              std::string password = {}, std::size_t pool_size = 1) {
    auto config = std::make_shared<RedisConfig>();
    for (const auto port : ports) config->endpoints.push_back(Endpoint{"127.0.0.1", port, "127.0.0.1"});
    config->cluster = cluster;
    config->password = std::move(password);
    config->pool_size = pool_size;
    config->timeout = 50ms;
    return config;
}

/// Answers ECHO with its argument, and CLUSTER SLOTS with an empty map.
std::optional<std::string> echo(const FakeRedis::Command& command, int) {
    if (command.size() == 2 && command[0] == "ECHO") return bulk(command[1]);
    if (command.size() == 2 && command[0] == "CLUSTER") return std::string("*0\r\n");
    if (!command.empty() && (command[0] == "AUTH" || command[0] == "ASKING")) return std::string("+OK\r\n");
    return std::string("-ERR unknown command\r\n");
}

Task<RedisClient::Result> echo_call(RedisClient& client, std::string text,
                                    Clock::duration budget = 2s) {
    std::string command;
    append_resp_command(command, {"ECHO", text});
    co_return co_await client.run(redis_key_slot(text), std::move(command), Clock::now() + budget);
}

/// Runs `io` until `done` or `limit`.
template <typename Done>
void run_until(asio::io_context& io, Done done, Clock::duration limit = 5s) {
    io.restart();
    const auto deadline = Clock::now() + limit;
    while (!done() && Clock::now() < deadline) {
        io.run_one_for(20ms);
        if (io.stopped()) io.restart();
    }
}

}  // namespace

TEST_CASE("redis client: pipelined commands get their own replies, written together") {
    asio::io_context io;
    FakeRedis redis(io, echo);
    RedisClient client(io.get_executor(), config_for({redis.port()}));
    constexpr int kCalls = 64;
    std::vector<std::optional<RedisClient::Result>> results(kCalls);
    int finished = 0;
    for (int i = 0; i < kCalls; ++i) {
        asio::co_spawn(io, [&, i]() -> Task<void> {
            results[i] = co_await echo_call(client, "key-" + std::to_string(i));
            ++finished;
        }, asio::detached);
    }
    run_until(io, [&] { return finished == kCalls; });
    REQUIRE(finished == kCalls);
    for (int i = 0; i < kCalls; ++i) {
        INFO(i);
        REQUIRE(results[i]->outcome == RedisClient::Outcome::reply);
        CHECK(results[i]->reply.text == "key-" + std::to_string(i));
    }
    // One connection: all 64 went over it, and not one write each.
    CHECK(redis.connections == 1);
    CHECK(redis.reads_with_commands < kCalls);
    CHECK(redis.most_commands_in_one_read > 1);
}

TEST_CASE("redis client: a stalled server costs its caller the deadline, and its late reply goes to nobody else") {
    asio::io_context io;
    std::optional<std::string> held;
    FakeRedis redis(io, [&](const FakeRedis::Command& command, int) -> std::optional<std::string> {
        if (command[1] == "first") {
            held = bulk("first");
            return std::nullopt;  // stalls
        }
        // The late reply, then this one's: in the order Redis answers.
        std::string both = held.value_or("") + bulk(command[1]);
        held.reset();
        return both;
    });
    RedisClient client(io.get_executor(), config_for({redis.port()}));
    // Connected first, so the deadline measures the stall and not the connect.
    REQUIRE(run_task(io, echo_call(client, "warm-up")).outcome == RedisClient::Outcome::reply);

    const auto started = Clock::now();
    const auto stalled = run_task(io, echo_call(client, "first", 30ms));
    const auto took = Clock::now() - started;
    CHECK(stalled.outcome == RedisClient::Outcome::timeout);
    CHECK(took >= 30ms);
    CHECK(took < 30ms + 100ms);  // the sweep's timer, not a second deadline
    CHECK_THAT(stalled.detail, Catch::Matchers::Contains("no answer from Redis"));

    const auto next = run_task(io, echo_call(client, "second"));
    REQUIRE(next.outcome == RedisClient::Outcome::reply);
    CHECK(next.reply.text == "second");
}

TEST_CASE("redis client: a refused connection fails at once, and is made again once Redis is there") {
    asio::io_context io;
    std::uint16_t port = 0;
    {
        asio::ip::tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
        port = probe.local_endpoint().port();
    }  // closed: the port refuses
    RedisClient client(io.get_executor(), config_for({port}));
    gateway::test::run_for(io, 50ms);  // the first attempt fails
    const auto started = Clock::now();
    const auto refused = run_task(io, echo_call(client, "x"));
    CHECK(refused.outcome == RedisClient::Outcome::unavailable);
    CHECK_THAT(refused.detail, Catch::Matchers::Contains("Connection refused"));
    CHECK(Clock::now() - started < 20ms);  // no wait for a deadline

    // Redis comes up on that port: the background attempts find it.
    asio::ip::tcp::acceptor reopened(io);
    reopened.open(asio::ip::tcp::v4());
    reopened.set_option(asio::socket_base::reuse_address(true));
    reopened.bind({asio::ip::make_address("127.0.0.1"), port});
    reopened.listen();
    std::vector<std::shared_ptr<asio::ip::tcp::socket>> accepted;
    std::function<void()> accept = [&] {
        reopened.async_accept([&](const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
            if (ec) return;
            auto peer = std::make_shared<asio::ip::tcp::socket>(std::move(socket));
            accepted.push_back(peer);
            auto buffer = std::make_shared<std::array<char, 512>>();
            peer->async_read_some(asio::buffer(*buffer), [peer, buffer](const boost::system::error_code& e, std::size_t) {
                if (!e) asio::write(*peer, asio::buffer(std::string("$1\r\ny\r\n")));
            });
            accept();
        });
    };
    accept();
    run_until(io, [&] { return client.ready_connections() == 1; }, 3s);
    REQUIRE(client.ready_connections() == 1);
    const auto answered = run_task(io, echo_call(client, "y"));
    REQUIRE(answered.outcome == RedisClient::Outcome::reply);
    CHECK(answered.reply.text == "y");
}

TEST_CASE("redis client: a connection lost with commands on it fails them, and the next command goes on a new one") {
    asio::io_context io;
    FakeRedis redis(io, [](const FakeRedis::Command& command, int connection) -> std::optional<std::string> {
        if (connection == 0 && command[1] == "doomed") return std::string("CLOSE");
        return echo(command, connection);
    });
    RedisClient client(io.get_executor(), config_for({redis.port()}));
    const auto lost = run_task(io, echo_call(client, "doomed"));
    CHECK(lost.outcome == RedisClient::Outcome::unavailable);
    CHECK_THAT(lost.detail, Catch::Matchers::Contains("lost"));
    run_until(io, [&] { return client.ready_connections() == 1; }, 3s);
    const auto again = run_task(io, echo_call(client, "fine"));
    REQUIRE(again.outcome == RedisClient::Outcome::reply);
    CHECK(again.reply.text == "fine");
    CHECK(redis.connections == 2);
}

TEST_CASE("redis client: AUTH is the first command on every connection") {
    asio::io_context io;
    FakeRedis redis(io, echo);
    RedisClient client(io.get_executor(), config_for({redis.port()}, false, "s3cret", 2));
    run_until(io, [&] { return client.ready_connections() == 2; });
    for (int i = 0; i < 4; ++i) {
        REQUIRE(run_task(io, echo_call(client, "k" + std::to_string(i))).outcome == RedisClient::Outcome::reply);
    }
    REQUIRE(redis.connections == 2);
    for (int connection = 0; connection < 2; ++connection) {
        const auto first = std::find_if(redis.received.begin(), redis.received.end(),
                                        [&](const auto& entry) { return entry.first == connection; });
        REQUIRE(first != redis.received.end());
        CHECK(first->second == FakeRedis::Command{"AUTH", "s3cret"});
    }
}

TEST_CASE("redis client: a cluster's MOVED is followed and remembered, ASK is followed once") {
    asio::io_context io;
    FakeRedis b(io, echo);
    const std::string b_at = b.endpoint();
    const std::uint16_t moved_slot = redis_key_slot("moved-key");
    const std::uint16_t asked_slot = redis_key_slot("asked-key");
    FakeRedis a(io, [&](const FakeRedis::Command& command, int connection) -> std::optional<std::string> {
        if (command.size() == 2 && command[0] == "ECHO" && command[1] == "moved-key") {
            return "-MOVED " + std::to_string(moved_slot) + " " + b_at + "\r\n";
        }
        if (command.size() == 2 && command[0] == "ECHO" && command[1] == "asked-key") {
            return "-ASK " + std::to_string(asked_slot) + " " + b_at + "\r\n";
        }
        return echo(command, connection);
    });
    RedisClient client(io.get_executor(), config_for({a.port()}, true));

    const auto moved = run_task(io, echo_call(client, "moved-key"));
    REQUIRE(moved.outcome == RedisClient::Outcome::reply);
    CHECK(moved.reply.text == "moved-key");  // B's answer
    const auto count_at = [](const FakeRedis& redis, const std::string& what) {
        return std::count_if(redis.received.begin(), redis.received.end(), [&](const auto& entry) {
            return entry.second.size() == 2 && entry.second[1] == what;
        });
    };
    CHECK(count_at(a, "moved-key") == 1);
    CHECK(count_at(b, "moved-key") == 1);
    // Remembered: straight to B the second time.
    REQUIRE(run_task(io, echo_call(client, "moved-key")).outcome == RedisClient::Outcome::reply);
    CHECK(count_at(a, "moved-key") == 1);
    CHECK(count_at(b, "moved-key") == 2);

    const auto asked = run_task(io, echo_call(client, "asked-key"));
    REQUIRE(asked.outcome == RedisClient::Outcome::reply);
    CHECK(asked.reply.text == "asked-key");
    // ASKING went just before it, on the same connection.
    const auto at = std::find_if(b.received.begin(), b.received.end(),
                                 [](const auto& entry) { return entry.second.size() == 2 && entry.second[1] == "asked-key"; });
    REQUIRE(at != b.received.begin());
    CHECK(std::prev(at)->second == FakeRedis::Command{"ASKING"});
    CHECK(std::prev(at)->first == at->first);
    // Not remembered: A is asked again.
    REQUIRE(run_task(io, echo_call(client, "asked-key")).outcome == RedisClient::Outcome::reply);
    CHECK(count_at(a, "asked-key") == 2);
}

TEST_CASE("redis client: the slot map comes from CLUSTER SLOTS") {
    asio::io_context io;
    FakeRedis b(io, echo);
    const std::uint16_t b_port = b.port();
    FakeRedis a(io, [&](const FakeRedis::Command& command, int connection) -> std::optional<std::string> {
        if (command.size() == 2 && command[0] == "CLUSTER" && command[1] == "SLOTS") {
            // 0..8191 on A itself, 8192..16383 on B.
            return "*2\r\n"
                   "*3\r\n:0\r\n:8191\r\n*3\r\n" + bulk("127.0.0.1") + ":1\r\n" + bulk("a-id") +
                   "*3\r\n:8192\r\n:16383\r\n*3\r\n" + bulk("127.0.0.1") + ":" + std::to_string(b_port) + "\r\n" + bulk("b-id");
        }
        return echo(command, connection);
    });
    RedisClient client(io.get_executor(), config_for({a.port()}, true));
    run_until(io, [&] { return !a.received.empty() && b.connections > 0; });
    // A key of B's half goes to B without asking A first.
    std::string key_on_b;
    for (int i = 0; key_on_b.empty(); ++i) {
        const std::string candidate = "k" + std::to_string(i);
        if (redis_key_slot(candidate) >= 8192) key_on_b = candidate;
    }
    run_until(io, [&] { return client.ready_connections() >= 2; });
    const auto answered = run_task(io, echo_call(client, key_on_b));
    REQUIRE(answered.outcome == RedisClient::Outcome::reply);
    CHECK(answered.reply.text == key_on_b);
    const auto asked_a = std::count_if(a.received.begin(), a.received.end(),
                                       [&](const auto& entry) { return entry.second.size() == 2 && entry.second[1] == key_on_b; });
    CHECK(asked_a == 0);
}

TEST_CASE("redis client: a connection that stops answering for 2 s is taken for dead and made again") {
    // A peer that vanished without a FIN or RST (a NAT that forgot the flow): its socket stays
    // open and every command on it would time out for ever.
    asio::io_context io;
    FakeRedis redis(io, [](const FakeRedis::Command& command, int connection) -> std::optional<std::string> {
        if (connection == 0 && command[1] != "warm-up") return std::nullopt;  // the first goes silent
        return echo(command, connection);
    });
    RedisClient client(io.get_executor(), config_for({redis.port()}));
    REQUIRE(run_task(io, echo_call(client, "warm-up")).outcome == RedisClient::Outcome::reply);
    const auto started = Clock::now();
    std::optional<RedisClient::Result> answered;
    while (Clock::now() - started < 4s) {
        auto result = run_task(io, echo_call(client, "probe", 50ms));
        if (result.outcome == RedisClient::Outcome::reply) {
            answered = std::move(result);
            break;
        }
        gateway::test::run_for(io, 100ms);
    }
    const auto took = Clock::now() - started;
    REQUIRE(answered);
    CHECK(answered->reply.text == "probe");
    CHECK(redis.connections == 2);
    CHECK(took >= 2s);  // not before its oldest command waited kNoReplyLimit
    CHECK(took < 3500ms);
}
