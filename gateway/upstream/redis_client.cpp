#include "upstream/redis_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <cstring>
#include <deque>
#include <functional>
#include <optional>

namespace gateway {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{50};
constexpr std::chrono::milliseconds kMaxBackoff{500};
constexpr std::chrono::milliseconds kConnectTimeout{1000};
/// CLUSTER SLOTS is asked at most this often (a burst of MOVED replies after a failover asks
/// once), and answered within this long.
constexpr std::chrono::milliseconds kRefreshSpacing{200};
constexpr std::chrono::milliseconds kRefreshTimeout{1000};
constexpr std::uint16_t kUnknownNode = 0xffff;
constexpr std::size_t kReadChunk = 16 * 1024;
/// A connection whose oldest command has waited this long for its reply is taken for dead
/// (a peer gone without a FIN or RST, say behind a NAT that forgot it) and made again; Redis
/// answers in well under a millisecond, and a stalled one gets no commands once the breaker
/// is open but the trials'.
constexpr std::chrono::milliseconds kNoReplyLimit{2000};

/// One command's caller, waiting for its reply. The timer never expires by itself: it is what
/// the caller's coroutine sleeps on, and cancelling it wakes it (with the reply, or with the
/// timeout the client's sweep decided). A per-request deadline timer would re-arm the
/// reactor's timerfd (a system call) for nearly every request; one sweep per client does not.
struct Waiter {
    Waiter(const Executor& executor, Clock::time_point deadline_)
        : timer(executor, Clock::time_point::max()), deadline(deadline_) {}

    void complete(RedisClient::Outcome outcome_, RespReply reply_, std::string detail_ = {}) {
        if (done) return;
        done = true;
        outcome = outcome_;
        reply = std::move(reply_);
        detail = std::move(detail_);
        timer.cancel();
    }

    Task<void> wait() {
        if (done) co_return;
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(use_task, ec));
    }

    Timer timer;
    Clock::time_point deadline;
    bool done = false;
    RedisClient::Outcome outcome = RedisClient::Outcome::unavailable;
    RespReply reply;
    std::string detail;
};

std::string endpoint_text(const tcp::endpoint& endpoint) {
    const auto address = endpoint.address();
    const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
    return host + ":" + std::to_string(endpoint.port());
}

/// One connection to one Redis node, and the coroutine that keeps it up. Commands are
/// appended to `out` and written together by one flush per turn of the event loop; `awaiting`
/// holds their waiters in the order Redis will answer them.
class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(const Executor& executor, tcp::endpoint endpoint, std::string password,
               std::function<void()> on_lost)
        : executor_(executor),
          endpoint_(endpoint),
          label_(endpoint_text(endpoint)),
          password_(std::move(password)),
          on_lost_(std::move(on_lost)),
          socket_(executor),
          retry_timer_(executor) {}

    void start() { asio::co_spawn(executor_, connect_once(shared_from_this()), asio::detached); }

    bool ready() const noexcept { return state_ == State::ready; }
    bool usable() const noexcept { return state_ == State::ready || state_ == State::connecting; }
    std::size_t load() const noexcept { return awaiting_.size(); }

    /// Ends the connection (to be made again) when its oldest command has gone unanswered for
    /// kNoReplyLimit; the sweep asks at each of its turns.
    void check_alive(Clock::time_point now) {
        if (state_ != State::ready || awaiting_.empty()) return;
        if (now - oldest_sent_ < kNoReplyLimit) return;
        lose("connection to Redis " + label_ + " lost: no reply for " +
             std::to_string(kNoReplyLimit.count()) + " ms");
    }
    const std::string& last_error() const noexcept { return last_error_; }

    /// Queues `command` (RESP bytes) for `waiter`; written with this turn's others. While the
    /// connection is being made it waits in the queue (the caller's deadline still holds).
    /// A null waiter: a reply nobody waits for (ASKING's).
    void send(std::string_view command, std::shared_ptr<Waiter> waiter) {
        out_.append(command);
        if (awaiting_.empty()) oldest_sent_ = Clock::now();
        awaiting_.push_back(std::move(waiter));
        if (state_ == State::ready) schedule_flush();
    }

    void close() {
        state_ = State::closed;
        boost::system::error_code ignored;
        socket_.close(ignored);
        retry_timer_.cancel();
        fail_all("the Redis client was closed");
    }

private:
    enum class State { connecting, ready, waiting_to_retry, closed };

    // The connection's standing read and its wait between attempts are not work that keeps
    // the worker's io_context running (as the mailbox's doorbell is not): a worker that drains
    // for shutdown returns from run() once its clients are done, whatever its Redis does.
    // Each such operation is discounted once started and counted again when it completes.

    Task<void> connect_once(std::shared_ptr<Connection> self) {
        state_ = State::connecting;
        const std::string failure = co_await connect();
        if (state_ == State::closed) co_return;
        if (failure.empty()) {
            backoff_ = kFirstBackoff;
            start_read();
            co_return;
        }
        lose(failure);
        backoff_ = std::min(backoff_ * 2, kMaxBackoff);
        (void)self;  // held: the connection outlives this coroutine's every suspension
    }

    /// Fails what waits on this connection and tries again after the backoff.
    void lose(const std::string& why) {
        last_error_ = why;
        boost::system::error_code ignored;
        socket_.close(ignored);
        state_ = State::waiting_to_retry;
        fail_all(last_error_);
        if (on_lost_) on_lost_();
        retry_timer_.expires_after(backoff_);
        retry_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            self->executor_.on_work_started();
            if (ec || self->state_ == State::closed) return;
            asio::co_spawn(self->executor_, self->connect_once(self), asio::detached);
        });
        executor_.on_work_finished();
    }

    /// Opens the socket within kConnectTimeout; empty on success, else why not.
    Task<std::string> connect() {
        socket_ = Socket(executor_);
        Timer limit(executor_, kConnectTimeout);
        bool timed_out = false;
        limit.async_wait([this, &timed_out](const boost::system::error_code& ec) {
            if (ec) return;
            timed_out = true;
            boost::system::error_code ignored;
            socket_.close(ignored);
        });
        boost::system::error_code ec;
        co_await socket_.async_connect(endpoint_, asio::redirect_error(use_task, ec));
        limit.cancel();
        if (timed_out) {
            co_return "cannot connect to Redis " + label_ + ": no answer within " +
                std::to_string(kConnectTimeout.count()) + " ms";
        }
        if (ec) co_return "cannot connect to Redis " + label_ + ": " + ec.message();
        socket_.set_option(tcp::no_delay(true), ec);
        socket_.set_option(asio::socket_base::keep_alive(true), ec);
        socket_.non_blocking(true, ec);  // write_out's write at once must never block
        if (!password_.empty()) {
            // First on the wire, before what was queued while connecting. Its reply is read
            // like any other; when it refuses, the commands after it answer NOAUTH themselves.
            std::string auth;
            append_resp_command(auth, {"AUTH", password_});
            out_.insert(0, auth);
            awaiting_.push_front(nullptr);
        }
        state_ = State::ready;
        in_start_ = in_end_ = 0;
        if (!out_.empty()) schedule_flush();
        co_return std::string();
    }

    /// Reads into the free end of in_ (its bytes are never zeroed: a resize would clear the
    /// whole chunk on every read), moving the unparsed rest to the front first, and growing
    /// it only for a reply larger than what it holds.
    void start_read() {
        if (in_start_ == in_end_) {
            in_start_ = in_end_ = 0;
        } else if (in_start_ > 0 && in_.size() - in_end_ < kReadChunk / 4) {
            std::memmove(in_.data(), in_.data() + in_start_, in_end_ - in_start_);
            in_end_ -= in_start_;
            in_start_ = 0;
        }
        if (in_.size() - in_end_ < kReadChunk / 4) in_.resize(std::max(in_.size() * 2, kReadChunk));
        socket_.async_read_some(asio::buffer(in_.data() + in_end_, in_.size() - in_end_),
                                [self = shared_from_this()](const boost::system::error_code& ec,
                                                            std::size_t n) {
                                    self->executor_.on_work_started();
                                    self->in_end_ += n;
                                    self->on_read(ec);
                                });
        executor_.on_work_finished();
    }

    /// Hands out the replies read so far, in order, and reads on; or ends the connection.
    void on_read(const boost::system::error_code& ec) {
        if (state_ == State::closed) return;
        while (in_start_ < in_end_) {
            auto parsed = RespParser::parse(std::string_view(in_.data() + in_start_, in_end_ - in_start_));
            if (parsed.status == RespParser::Status::malformed) {
                lose("connection to Redis " + label_ + " lost: malformed reply");
                return;
            }
            if (parsed.status == RespParser::Status::incomplete) break;
            in_start_ += parsed.consumed;
            if (awaiting_.empty()) {
                lose("connection to Redis " + label_ + " lost: a reply to no command");
                return;
            }
            std::shared_ptr<Waiter> waiter = std::move(awaiting_.front());
            awaiting_.pop_front();
            // The next command's wait is counted from now: it was sent no earlier, and this
            // reply shows the connection alive.
            oldest_sent_ = Clock::now();
            if (waiter) waiter->complete(RedisClient::Outcome::reply, std::move(parsed.reply));
        }
        if (ec) {
            lose("connection to Redis " + label_ + " lost: " +
                 (ec == asio::error::eof ? std::string("closed by Redis") : ec.message()));
            return;
        }
        start_read();
    }

    void schedule_flush() {
        if (flush_scheduled_) return;
        flush_scheduled_ = true;
        // After the rest of this turn: the commands of the other requests that became ready in
        // the same turn go out in the same write.
        asio::post(executor_, [self = shared_from_this()] { self->write_out(); });
    }

    /// Writes what is queued: at once while the socket takes it (the usual case, no
    /// asynchronous operation at all), the rest when it is writable again.
    void write_out() {
        if (state_ != State::ready || out_.empty()) {
            flush_scheduled_ = false;
            return;
        }
        sending_.swap(out_);
        out_.clear();
        boost::system::error_code ec;
        const std::size_t written = socket_.write_some(asio::buffer(sending_), ec);
        if (!ec && written == sending_.size()) {
            sending_.clear();
            write_out();
            return;
        }
        if (ec && ec != asio::error::would_block) {
            wrote_fail();
            return;
        }
        asio::async_write(socket_, asio::buffer(sending_.data() + written, sending_.size() - written),
                          [self = shared_from_this()](const boost::system::error_code& error, std::size_t) {
                              self->sending_.clear();
                              if (error) {
                                  self->wrote_fail();
                                  return;
                              }
                              self->write_out();
                          });
    }

    /// A failed write: the read fails too, and fails every waiter.
    void wrote_fail() {
        flush_scheduled_ = false;
        boost::system::error_code ignored;
        socket_.close(ignored);
    }

    void fail_all(const std::string& why) {
        out_.clear();
        auto waiting = std::move(awaiting_);
        awaiting_.clear();
        for (auto& waiter : waiting) {
            if (waiter) waiter->complete(RedisClient::Outcome::unavailable, {}, why);
        }
    }

    Executor executor_;
    tcp::endpoint endpoint_;
    std::string label_;
    std::string password_;
    std::function<void()> on_lost_;
    Socket socket_;
    Timer retry_timer_;
    State state_ = State::connecting;
    std::string out_;
    std::string sending_;
    bool flush_scheduled_ = false;
    std::deque<std::shared_ptr<Waiter>> awaiting_;
    Clock::time_point oldest_sent_{};  // when the front of awaiting_ started waiting, or later
    std::vector<char> in_ = std::vector<char>(kReadChunk);
    std::size_t in_start_ = 0;  // in_[in_start_, in_end_): read, not yet parsed
    std::size_t in_end_ = 0;
    std::chrono::milliseconds backoff_ = kFirstBackoff;
    std::string last_error_;
};

/// "HOST:PORT" of a MOVED or ASK reply ("MOVED 3999 127.0.0.1:6381") as an endpoint.
std::optional<tcp::endpoint> redirect_target(std::string_view text, std::uint16_t& slot) {
    const auto first = text.find(' ');
    const auto second = text.find(' ', first + 1);
    if (first == std::string_view::npos || second == std::string_view::npos) return std::nullopt;
    const std::string slot_text(text.substr(first + 1, second - first - 1));
    const std::string_view where = text.substr(second + 1);
    const auto colon = where.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string host(where.substr(0, colon));
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) return std::nullopt;
    try {
        const int port = std::stoi(std::string(where.substr(colon + 1)));
        const int number = std::stoi(slot_text);
        if (port <= 0 || port > 65535 || number < 0 || number >= kRedisSlots) return std::nullopt;
        slot = static_cast<std::uint16_t>(number);
        return tcp::endpoint(address, static_cast<std::uint16_t>(port));
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace

struct RedisClient::Impl : std::enable_shared_from_this<Impl> {
    struct Node {
        tcp::endpoint endpoint;
        std::vector<std::shared_ptr<Connection>> pool;
    };

    Impl(const Executor& executor_, std::shared_ptr<const RedisConfig> config_)
        : executor(executor_), config(std::move(config_)), sweep_timer(executor_) {}

    void start() {
        for (const auto& endpoint : config->endpoints) {
            boost::system::error_code ec;
            const auto address = asio::ip::make_address(endpoint.address.empty() ? endpoint.host : endpoint.address, ec);
            if (ec) continue;  // resolve_endpoints filled every address of a serving config
            node_at(tcp::endpoint(address, endpoint.port));
        }
        if (config->cluster) {
            slot_owner.assign(kRedisSlots, kUnknownNode);
            request_refresh();
        }
    }

    void close() {
        closed = true;
        sweep_timer.cancel();
        for (auto& node : nodes) {
            for (auto& connection : node->pool) connection->close();
        }
        nodes.clear();
        for (auto& waiter : tracked) {
            waiter->complete(Outcome::unavailable, {}, "the Redis client was closed");
        }
        tracked.clear();
    }

    /// The node at `endpoint`, its connections started if it is new.
    std::size_t node_at(const tcp::endpoint& endpoint) {
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            if (nodes[i]->endpoint == endpoint) return i;
        }
        auto node = std::make_unique<Node>();
        node->endpoint = endpoint;
        std::weak_ptr<Impl> weak = weak_from_this();
        const bool cluster = config->cluster;
        for (std::size_t i = 0; i < config->pool_size; ++i) {
            auto connection = std::make_shared<Connection>(executor, endpoint, config->password, [weak, cluster] {
                // A lost node may be a failed-over master: its slots have moved.
                if (auto self = weak.lock(); self && cluster) self->request_refresh();
            });
            connection->start();
            node->pool.push_back(std::move(connection));
        }
        nodes.push_back(std::move(node));
        return nodes.size() - 1;
    }

    /// The least loaded connection of `node` that can take a command now; null if none can.
    Connection* pick(std::size_t node) {
        Connection* best = nullptr;
        for (auto& connection : nodes[node]->pool) {
            if (!connection->usable()) continue;
            if (best == nullptr || (connection->ready() && !best->ready()) ||
                (connection->ready() == best->ready() && connection->load() < best->load())) {
                best = connection.get();
            }
        }
        return best;
    }

    std::size_t node_for(std::uint16_t slot) {
        if (!config->cluster || nodes.empty()) return 0;
        const std::uint16_t owner = slot_owner[slot];
        if (owner != kUnknownNode) return owner;
        request_refresh();
        return 0;  // a seed: it answers MOVED with the right node
    }

    std::string unavailable_detail(std::size_t node) const {
        for (const auto& connection : nodes[node]->pool) {
            if (!connection->last_error().empty()) return connection->last_error();
        }
        return "no connection to Redis " + endpoint_text(nodes[node]->endpoint);
    }

    /// Keeps `waiter` under the sweep, which times it out at its deadline.
    void track(const std::shared_ptr<Waiter>& waiter) {
        tracked.push_back(waiter);
        // Decisions share one timeout, so their deadlines only grow and the sweep already
        // armed comes first; a shorter one (a decision after a slot-map refresh) re-arms it.
        if (!sweeping || waiter->deadline < sweep_at) {
            sweeping = true;
            arm_sweep(waiter->deadline);
        }
    }

    void arm_sweep(Clock::time_point when) {
        sweep_at = when;
        sweep_timer.expires_at(when);
        sweep_timer.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
            auto self = weak.lock();
            if (!self || ec == asio::error::operation_aborted) return;
            self->sweep();
        });
    }

    void sweep() {
        const auto now = Clock::now();
        for (auto& node : nodes) {
            for (auto& connection : node->pool) connection->check_alive(now);
        }
        auto next = Clock::time_point::max();
        std::size_t kept = 0;
        for (auto& waiter : tracked) {
            if (waiter->done) continue;
            if (waiter->deadline <= now) {
                waiter->complete(Outcome::timeout, {},
                                 "no answer from Redis within " +
                                     std::to_string(config->timeout.count()) + " ms");
                continue;
            }
            next = std::min(next, waiter->deadline);
            tracked[kept++] = std::move(waiter);
        }
        tracked.resize(kept);
        if (tracked.empty()) {
            sweeping = false;
        } else {
            arm_sweep(next);
        }
    }

    void request_refresh() {
        if (!config->cluster || closed || refreshing) return;
        const auto now = Clock::now();
        if (now - last_refresh < kRefreshSpacing) {
            // Soon, not now: the slots may still be moving.
            if (!refresh_queued) {
                refresh_queued = true;
                auto timer = std::make_shared<Timer>(executor, last_refresh + kRefreshSpacing);
                timer->async_wait([weak = weak_from_this(), timer](const boost::system::error_code&) {
                    if (auto self = weak.lock()) {
                        self->refresh_queued = false;
                        self->request_refresh();
                    }
                });
            }
            return;
        }
        refreshing = true;
        last_refresh = now;
        asio::co_spawn(executor, refresh(shared_from_this()), asio::detached);
    }

    /// Reads the slot map from the first node that answers CLUSTER SLOTS.
    Task<void> refresh(std::shared_ptr<Impl> self) {
        const std::size_t known = nodes.size();
        for (std::size_t i = 0; i < known && !closed; ++i) {
            Connection* connection = pick(i);
            if (connection == nullptr) continue;
            auto waiter = std::make_shared<Waiter>(executor, Clock::now() + kRefreshTimeout);
            track(waiter);
            std::string command;
            append_resp_command(command, {"CLUSTER", "SLOTS"});
            connection->send(command, waiter);
            co_await waiter->wait();
            if (closed) break;
            if (waiter->outcome == Outcome::reply && apply_slots(waiter->reply)) break;
        }
        refreshing = false;
        (void)self;
    }

    /// CLUSTER SLOTS: [[start, end, [ip, port, id], replicas...], ...].
    bool apply_slots(const RespReply& reply) {
        if (reply.type != RespReply::Type::array || reply.elements.empty()) return false;
        for (const auto& range : reply.elements) {
            if (range.type != RespReply::Type::array || range.elements.size() < 3) continue;
            const auto& master = range.elements[2];
            if (range.elements[0].type != RespReply::Type::integer ||
                range.elements[1].type != RespReply::Type::integer ||
                master.type != RespReply::Type::array || master.elements.size() < 2 ||
                master.elements[1].type != RespReply::Type::integer) {
                continue;
            }
            boost::system::error_code ec;
            const auto address = asio::ip::make_address(master.elements[0].text, ec);
            const auto first = range.elements[0].integer;
            const auto last = range.elements[1].integer;
            const auto port = master.elements[1].integer;
            if (ec || first < 0 || last >= kRedisSlots || first > last || port <= 0 || port > 65535) {
                continue;
            }
            const auto node = static_cast<std::uint16_t>(
                node_at(tcp::endpoint(address, static_cast<std::uint16_t>(port))));
            std::fill(slot_owner.begin() + first, slot_owner.begin() + last + 1, node);
        }
        return true;
    }

    Executor executor;
    std::shared_ptr<const RedisConfig> config;
    std::vector<std::unique_ptr<Node>> nodes;
    std::vector<std::uint16_t> slot_owner;  // cluster only: slot -> index into nodes
    std::vector<std::shared_ptr<Waiter>> tracked;
    Timer sweep_timer;
    Clock::time_point sweep_at{};  // when the armed sweep runs
    bool sweeping = false;
    bool closed = false;
    bool refreshing = false;
    bool refresh_queued = false;
    Clock::time_point last_refresh{};
};

RedisClient::RedisClient(const Executor& executor, std::shared_ptr<const RedisConfig> config)
    : config_(config), impl_(std::make_shared<Impl>(executor, std::move(config))) {
    impl_->start();
}

RedisClient::~RedisClient() { impl_->close(); }

std::size_t RedisClient::ready_connections() const {
    std::size_t ready = 0;
    for (const auto& node : impl_->nodes) {
        for (const auto& connection : node->pool) ready += connection->ready() ? 1 : 0;
    }
    return ready;
}

Task<RedisClient::Result> RedisClient::run(std::uint16_t slot, std::string command,
                                           Clock::time_point deadline) {
    const std::shared_ptr<Impl> impl = impl_;  // a reload may drop the client while we wait
    std::optional<std::size_t> asking;  // the node an ASK sent us to, for one try
    // A MOVED is followed, then perhaps another while the slots still move; never in a loop.
    for (int attempt = 0; attempt < 4; ++attempt) {
        if (impl->closed || impl->nodes.empty()) co_return Result{Outcome::unavailable, {}, "no Redis node"};
        const std::size_t node = asking ? *asking : impl->node_for(slot);
        Connection* connection = impl->pick(node);
        if (connection == nullptr) {
            if (config_->cluster) impl->request_refresh();
            co_return Result{Outcome::unavailable, {}, impl->unavailable_detail(node)};
        }
        auto waiter = std::make_shared<Waiter>(impl->executor, deadline);
        impl->track(waiter);
        if (asking) {
            std::string ask;
            append_resp_command(ask, {"ASKING"});
            connection->send(ask, nullptr);
        }
        connection->send(command, waiter);
        if (!waiter->done) {
            boost::system::error_code ec;
            co_await waiter->timer.async_wait(asio::redirect_error(use_task, ec));
        }
        if (waiter->outcome != Outcome::reply) {
            co_return Result{waiter->outcome, {}, std::move(waiter->detail)};
        }
        const RespReply& reply = waiter->reply;
        const std::string_view code = reply.is_error() ? reply.error_code() : std::string_view();
        if (config_->cluster && (code == "MOVED" || code == "ASK")) {
            std::uint16_t moved_slot = 0;
            const auto target = redirect_target(reply.text, moved_slot);
            if (!target) co_return Result{Outcome::reply, std::move(waiter->reply), {}};
            const std::size_t to = impl->node_at(*target);
            if (code == "MOVED") {
                impl->slot_owner[moved_slot] = static_cast<std::uint16_t>(to);
                impl->request_refresh();
                asking.reset();
            } else {
                if (asking) co_return Result{Outcome::reply, std::move(waiter->reply), {}};
                asking = to;
            }
            continue;
        }
        co_return Result{Outcome::reply, std::move(waiter->reply), {}};
    }
    co_return Result{Outcome::unavailable, {}, "the cluster kept redirecting the command"};
}

}  // namespace gateway
