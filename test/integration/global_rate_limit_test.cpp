// Global rate limits (`rate_limit: {scope: global}`), end to end: real gateway processes share
// their buckets in a real redis-server (or a six-node Redis Cluster), and the tests count at the
// mock-backend what got through. They prove that the fleet together admits what one bucket
// admits; that a window edge admits no double burst; that keys get their own budgets; that a
// slow, dead, restarted, script-flushed, password-protected or failed-over Redis costs at most
// the decision timeout and is counted, with on_redis_error deciding what the client gets; that
// `--check` knows the new keys; and that admin /ratelimits tells the state.
//
// Robust under ctest -j2 and sanitizer builds: the limits are asserted by counting at the mock
// against burst + rate x elapsed (elapsed measured around the whole run), and every latency
// bound is relative to a baseline measured in the same test on the same machine.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>

#include "support/bodies.hpp"
#include "support/gateway_fixture.hpp"
#include "support/hardening.hpp"
#include "support/http_client.hpp"
#include "support/redis_server.hpp"

using namespace test_support;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using std::chrono::milliseconds;

namespace {

/// The limited route (get-account-penalties) and the warm-up route (get-subscription-blocks).
constexpr const char* kPenalty = "/v2/orgs/telco/penalties/214748364?reason=cancel";
constexpr const char* kBlocks = "/v2/orgs/telco/subscriptions/214748364/blocks";
constexpr const char* kRoute = "get-account-penalties";
constexpr const char* kWarmRoute = "get-subscription-blocks";
/// The Redis key of a route-keyed global limit on kRoute (its hash tag is the route's name).
constexpr const char* kRouteKey = "gateway:rl:{get-account-penalties}";
/// The warm-up route's global limit: far above anything a test sends, so it only ever makes
/// Redis round trips (and opens the gateway's Redis connections) without refusing anything.
constexpr const char* kWarmLimit = "requests_per_second: 100000, burst: 100000, scope: global";
/// A decision timeout no healthy loopback Redis reaches, even in a sanitizer build under
/// ctest -j2: the tests that count Redis's decisions must not see fallbacks.
constexpr const char* kGenerousTimeout = "  timeout_ms: 250\n";

/// A `redis:` section: `endpoints` and further lines (indented by two spaces).
std::string redis_yaml(const std::vector<std::string>& endpoints, const std::string& more = kGenerousTimeout) {
    std::string list;
    for (const auto& endpoint : endpoints) list += (list.empty() ? "" : ", ") + endpoint;
    return "redis:\n  endpoints: [" + list + "]\n" + more;
}

/// A config with both upstreams on `mock`, the warm-up route with `warm_limit` and the limited
/// route with `rate_limit: {LIMIT}`; `redis` is a redis_yaml() section or empty, `extra_routes`
/// more route entries.
std::string global_config(const std::string& mock, const std::string& redis, const std::string& limit,
                          const std::string& warm_limit = kWarmLimit, const std::string& extra_routes = "") {
    return "limits:\n  max_connections: 1000\n" + redis +
           "upstreams:\n"
           "  selfCareSocket:\n"
           "    endpoints: [" + mock + "]\n"
           "  penalties:\n"
           "    endpoints: [" + mock + "]\n"
           "    request_timeout_ms: 5000\n"
           "routes:\n"
           "  - name: get-subscription-blocks\n"
           "    method: GET\n"
           "    path: /v2/orgs/{orgId}/subscriptions/{subscriptionId:int64}/blocks\n"
           "    roles: [API_KEY]\n"
           "    upstream: selfCareSocket\n" +
           (warm_limit.empty() ? std::string() : "    rate_limit: {" + warm_limit + "}\n") +
           "  - name: get-account-penalties\n"
           "    method: GET\n"
           "    path: /v2/orgs/{orgId}/penalties/{accountId:int64}\n"
           "    query:\n"
           "      reason: {type: enum, values: [unsubscribe, cancel], required: true}\n"
           "    roles: [API_KEY]\n"
           "    upstream: penalties\n"
           "    rate_limit: {" + limit + "}\n" +
           extra_routes;
}

/// Every value of `name`'s series in Prometheus text whose labels include all of `labels`
/// (in any order, other labels allowed), summed; 0 when there is none.
double metric_sum(const std::string& text, const std::string& name,
                  const std::map<std::string, std::string>& labels) {
    double sum = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.compare(0, name.size(), name) != 0) continue;
        std::map<std::string, std::string> found;
        std::size_t at = name.size();
        if (at < line.size() && line[at] == '{') {
            const auto close = line.find('}', at);
            if (close == std::string::npos) continue;
            const std::string set = line.substr(at + 1, close - at - 1);
            std::size_t i = 0;
            while (i < set.size()) {
                const auto equals = set.find("=\"", i);
                if (equals == std::string::npos) break;
                const auto quote = set.find('"', equals + 2);
                if (quote == std::string::npos) break;
                found[set.substr(i, equals - i)] = set.substr(equals + 2, quote - equals - 2);
                i = quote + 1;
                if (i < set.size() && set[i] == ',') ++i;
            }
            at = close + 1;
        }
        if (at >= line.size() || line[at] != ' ') continue;  // another metric with this prefix
        bool match = true;
        for (const auto& [key, value] : labels) {
            const auto it = found.find(key);
            match = match && it != found.end() && it->second == value;
        }
        if (match) sum += std::stod(line.substr(at + 1));
    }
    return sum;
}

// Crude JSON extraction, like the other admin tests: the admin bodies are small and flat.

/// The object (its text, braces included) that starts at body[open] == '{'.
std::string object_at(const std::string& body, std::size_t open) {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = open; i < body.size(); ++i) {
        const char c = body[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{') {
            ++depth;
        } else if (c == '}' && --depth == 0) {
            return body.substr(open, i - open + 1);
        }
    }
    return {};
}

/// Where the value of the first `"key":` at or after `from` starts (after the colon and any
/// spaces), or npos.
std::size_t value_of(const std::string& body, const std::string& key, std::size_t from = 0) {
    auto at = body.find("\"" + key + "\"", from);
    if (at == std::string::npos) return at;
    at = body.find(':', at + key.size() + 2);
    if (at == std::string::npos) return at;
    return body.find_first_not_of(" \n\t", at + 1);
}

/// The string value of `key`, or "(absent)".
std::string json_string(const std::string& body, const std::string& key) {
    const auto at = value_of(body, key);
    if (at == std::string::npos || body[at] != '"') return "(absent)";
    return body.substr(at + 1, body.find('"', at + 1) - at - 1);
}

/// The number (or true/false as 1/0) value of `key`, or -1.
double json_number(const std::string& body, const std::string& key) {
    const auto at = value_of(body, key);
    if (at == std::string::npos) return -1;
    if (body.compare(at, 4, "true") == 0) return 1;
    if (body.compare(at, 5, "false") == 0) return 0;
    try {
        return std::stod(body.substr(at));
    } catch (const std::exception&) {
        return -1;
    }
}

/// The object value of `key`, or empty.
std::string json_object(const std::string& body, const std::string& key) {
    const auto at = value_of(body, key);
    if (at == std::string::npos || body[at] != '{') return {};
    return object_at(body, at);
}

/// The element of /ratelimits' "limits" array whose "route" is `route`, or empty.
std::string limit_entry(const std::string& ratelimits, const std::string& route) {
    const auto list = value_of(ratelimits, "limits");
    if (list == std::string::npos || ratelimits[list] != '[') return {};
    for (auto open = ratelimits.find('{', list); open != std::string::npos;
         open = ratelimits.find('{', open + 1)) {
        const std::string entry = object_at(ratelimits, open);
        if (entry.empty()) break;
        if (json_string(entry, "route") == route) return entry;
        open += entry.size() - 1;
    }
    return {};
}

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double seconds_since(Clock::time_point start) { return ms_since(start) / 1000.0; }

/// The `p` quantile (0..1) of `values`, nearest rank.
double quantile(std::vector<double> values, double p) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size())));
    return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

/// What a run of requests got: statuses counted, each request's latency, the first of each kind.
struct Tally {
    long ok = 0;           // 200: forwarded
    long limited = 0;      // 429
    long unavailable = 0;  // 503
    long other = 0;
    std::vector<double> latency_ms;
    std::vector<Clock::time_point> limited_at;  // when each 429 arrived
    std::optional<HttpResponse> first_limited, first_unavailable, first_other;

    long total() const { return ok + limited + unavailable + other; }
    void add(const HttpResponse& answer, Clock::time_point sent) {
        const auto now = Clock::now();
        latency_ms.push_back(std::chrono::duration<double, std::milli>(now - sent).count());
        if (answer.status == 200) {
            ++ok;
        } else if (answer.status == 429) {
            ++limited;
            limited_at.push_back(now);
            if (!first_limited) first_limited = answer;
        } else if (answer.status == 503) {
            ++unavailable;
            if (!first_unavailable) first_unavailable = answer;
        } else {
            ++other;
            if (!first_other) first_other = answer;
        }
    }
    std::string describe() const {
        std::ostringstream out;
        out << ok << " x 200, " << limited << " x 429, " << unavailable << " x 503, " << other
            << " other; latency p50 " << quantile(latency_ms, 0.5) << " ms, p99 " << quantile(latency_ms, 0.99)
            << " ms, max " << quantile(latency_ms, 1.0) << " ms";
        if (first_other) out << "\nfirst other answer: " << first_other->describe();
        return out.str();
    }
};

/// Sends GET `target` on `client` until `until` (or `stop`), `per_second` requests a second
/// (0: back to back), timing each one; a client that falls behind catches up by at most one
/// interval instead of bursting.
Tally drive(HttpClient& client, Clock::time_point until, double per_second = 0, const Headers& headers = {},
            const std::atomic<bool>* stop = nullptr, const char* target = kPenalty) {
    Tally tally;
    const auto interval = per_second > 0 ? std::chrono::duration_cast<Clock::duration>(
                                               std::chrono::duration<double>(1.0 / per_second))
                                         : Clock::duration::zero();
    auto next = Clock::now();
    while (Clock::now() < until && !(stop && stop->load())) {
        if (per_second > 0) {
            std::this_thread::sleep_until(next);
            next += interval;
            if (next < Clock::now() - interval) next = Clock::now();
        }
        const auto sent = Clock::now();
        tally.add(client.send("GET", target, api_key(headers)), sent);
    }
    return tally;
}

/// Sends requests one after the other until one answers `status`, at most `limit`; how long
/// that took, or nothing.
std::optional<double> until_status(HttpClient& client, int status, milliseconds limit,
                                   const Headers& headers = {}) {
    const auto start = Clock::now();
    while (Clock::now() - start < limit) {
        if (client.send("GET", kPenalty, api_key(headers)).status == status) return ms_since(start);
    }
    return std::nullopt;
}

/// A thread whose exception (a client's timeout, say) join() rethrows in the test's thread,
/// instead of terminating the whole run. The destructor joins too.
class Background {
public:
    template <typename Function>
    explicit Background(Function function)
        : thread_([this, function = std::move(function)]() mutable {
              try {
                  function();
              } catch (...) {
                  error_ = std::current_exception();
              }
          }) {}
    ~Background() {
        if (thread_.joinable()) thread_.join();
    }
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;
    void join() {
        if (thread_.joinable()) thread_.join();
        if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    }

private:
    std::exception_ptr error_;  // before thread_: set up before the thread starts
    std::thread thread_;
};

/// One gateway process on `config_path` (its endpoints from the config), with an admin port.
struct Limited {
    Limited(const std::string& config_path, const std::string& mock_endpoint, std::vector<std::string> env = {},
            unsigned threads = 1) {
        GatewayOptions options;
        options.config_path = config_path;
        options.threads = threads;
        options.endpoints_from_config = true;
        options.extra_args = {"--admin", "127.0.0.1:0"};
        options.env = std::move(env);
        gateway = std::make_unique<Gateway>(options, mock_endpoint);
        admin_port = admin_port_of(*gateway);
        client = std::make_unique<HttpClient>(gateway->port());
    }

    HttpResponse get(const char* target = kPenalty, Headers headers = {}) {
        return client->send("GET", target, api_key(std::move(headers)));
    }
    std::string admin(const std::string& target) { return HttpClient(admin_port).send("GET", target).body; }
    std::string ratelimits() { return admin("/ratelimits"); }
    double metric(const std::string& name, const std::map<std::string, std::string>& labels) {
        return metric_sum(admin("/metrics"), name, labels);
    }
    /// gateway_rate_limit_fallbacks_total for `route`, one reason or (empty) all of them.
    double fallbacks(const std::string& reason = "", const std::string& route = kRoute) {
        std::map<std::string, std::string> labels{{"route", route}};
        if (!reason.empty()) labels["reason"] = reason;
        return metric("gateway_rate_limit_fallbacks_total", labels);
    }
    double rate_limited() { return metric("gateway_rate_limited_total", {{"route", kRoute}}); }

    /// Until this gateway's Redis decisions flow on every connection it uses: two rounds in a
    /// row of requests on the warm-up route, from `parallel` clients at once (so that every
    /// worker and more than one pooled connection take part), all answered 200 with no
    /// fallback counted. A gateway that connects to Redis lazily would otherwise decide the
    /// first requests by fallback (allow: forwarded, and not counted against the limit), which
    /// the counting tests would see as an excess. Spends none of the limited route's tokens.
    /// (Redis's state in /ratelimits is left to its own test, so that these do not depend on it.)
    void warm_up(int parallel = 4) {
        const auto deadline = Clock::now() + milliseconds(10000);
        double last = fallbacks("", kWarmRoute);
        int clean = 0;
        int rounds = 0;
        while (clean < 2 && Clock::now() < deadline) {
            std::vector<std::unique_ptr<Background>> clients;
            std::atomic<int> failed{0};
            for (int c = 0; c < parallel; ++c) {
                clients.push_back(std::make_unique<Background>([&] {
                    HttpClient warm_client(gateway->port());
                    for (int i = 0; i < 5; ++i) {
                        if (warm_client.send("GET", kBlocks, api_key()).status != 200) ++failed;
                    }
                }));
            }
            for (auto& thread : clients) thread->join();
            const double now = fallbacks("", kWarmRoute);
            clean = failed == 0 && now == last ? clean + 1 : 0;
            last = now;
            ++rounds;
        }
        INFO("warm-up: " << rounds << " rounds, " << last << " fallbacks on " << kWarmRoute);
        REQUIRE(clean >= 2);
    }

    std::unique_ptr<Gateway> gateway;
    std::uint16_t admin_port = 0;
    std::unique_ptr<HttpClient> client;
};

/// The keys the gateway keeps for kRoute (`gateway:rl:{ROUTE}...`), via redis-cli --scan.
std::vector<std::string> route_keys(const RedisServer& redis) {
    std::vector<std::string> keys;
    std::istringstream lines(redis.command({"--scan", "--pattern", "gateway:rl:*"}));
    for (std::string key; std::getline(lines, key);) {
        if (key.rfind(kRouteKey, 0) == 0) keys.push_back(key);
    }
    return keys;
}

/// "LINE" (1-based) of the first occurrence of `needle` in `text`.
std::string line_of(const std::string& text, const std::string& needle) {
    const auto at = text.find(needle);
    REQUIRE(at != std::string::npos);
    return std::to_string(1 + std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
}

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// 1. The fleet admits what one bucket admits.

TEST_CASE("global rate limit: three gateways sharing one Redis admit together burst + rate x elapsed (+-10 %), not three times it") {
    // Three separate gateway processes, one mock, one Redis. Each client is paced at the limit,
    // so together they offer 3x the limit: per-process buckets would admit about 3x, one shared
    // bucket burst + rate x elapsed.
    RedisServer redis;
    MockBackend mock;
    TempDir dir;
    const std::string config = dir.write(
        "routes.yaml", global_config(mock.endpoint(), redis_yaml({redis.endpoint()}),
                                     "requests_per_second: 50, burst: 10, key: route, scope: global"));
    std::vector<std::unique_ptr<Limited>> gateways;
    for (int i = 0; i < 3; ++i) gateways.push_back(std::make_unique<Limited>(config, mock.endpoint()));
    for (auto& gateway : gateways) gateway->warm_up();
    reset_mock_request_count(mock.port());

    const auto start = Clock::now();
    const auto until = start + milliseconds(10000);
    std::vector<Tally> tallies(gateways.size());
    std::vector<std::unique_ptr<Background>> clients;
    for (std::size_t i = 0; i < gateways.size(); ++i) {
        clients.push_back(std::make_unique<Background>([&, i] { tallies[i] = drive(*gateways[i]->client, until, 50); }));
    }
    for (auto& client : clients) client->join();
    const double elapsed = seconds_since(start);

    const long forwarded = mock_request_count(mock.port());
    const double expected = 10 + 50 * elapsed;
    long ok = 0, limited = 0, other = 0, sent = 0;
    double fallbacks = 0;
    for (std::size_t i = 0; i < gateways.size(); ++i) {
        INFO("gateway " << i << ": " << tallies[i].describe());
        ok += tallies[i].ok;
        limited += tallies[i].limited;
        other += tallies[i].other + tallies[i].unavailable;
        sent += tallies[i].total();
        fallbacks += gateways[i]->fallbacks();
    }
    INFO("sent " << sent << " in " << elapsed << " s; forwarded " << forwarded << ", expected " << expected
                 << "; fallbacks " << fallbacks);
    CHECK(sent >= 2.5 * expected);  // the offered load really was about 3x the limit
    CHECK(forwarded >= 0.9 * expected);
    CHECK(forwarded <= 1.1 * expected);
    CHECK(ok == forwarded);
    CHECK(limited > 0);
    CHECK(other == 0);
    CHECK(fallbacks == 0);  // every decision came from Redis
}

// ---------------------------------------------------------------------------------------------
// 2. No double burst at a window edge.

TEST_CASE("global rate limit: back-to-back requests for 2.5 s get at most burst + rate x elapsed + 1, with no second burst at a window edge") {
    // A fixed-window counter admits up to twice its limit around a window boundary (the end of
    // one window and the start of the next); a token bucket / GCRA never more than
    // burst + rate x elapsed. The run simply spans two second boundaries: no sleeping to hit
    // one. Two clients on a two-worker gateway, as fast as they go.
    RedisServer redis;
    MockBackend mock;
    TempDir dir;
    const std::string config = dir.write(
        "routes.yaml", global_config(mock.endpoint(), redis_yaml({redis.endpoint()}),
                                     "requests_per_second: 10, burst: 5, key: route, scope: global"));
    Limited g(config, mock.endpoint(), {}, 2);
    g.warm_up();
    reset_mock_request_count(mock.port());

    const auto start = Clock::now();
    const auto until = start + milliseconds(2500);
    Tally tallies[2];
    Background second([&] {
        HttpClient client(g.gateway->port());
        tallies[1] = drive(client, until);
    });
    tallies[0] = drive(*g.client, until);
    second.join();
    const double elapsed = seconds_since(start);

    const long forwarded = mock_request_count(mock.port());
    const double bound = 5 + 10 * elapsed;
    INFO("client 1: " << tallies[0].describe() << "\nclient 2: " << tallies[1].describe());
    INFO("forwarded " << forwarded << " in " << elapsed << " s; burst + rate x elapsed = " << bound);
    CHECK(forwarded <= bound + 1);
    CHECK(forwarded >= 0.9 * bound - 1);  // and it is a limit, not a refusal of everything
    CHECK(tallies[0].ok + tallies[1].ok == forwarded);
    CHECK(tallies[0].other + tallies[1].other + tallies[0].unavailable + tallies[1].unavailable == 0);
    CHECK(g.fallbacks() == 0);

    // A global refusal looks like a local one: 42901 with Retry-After and the RateLimit fields.
    const auto& first_limited = tallies[0].first_limited ? tallies[0].first_limited : tallies[1].first_limited;
    REQUIRE(first_limited);
    const HttpResponse& refused = *first_limited;
    EXPECT_ERROR(refused, 429, 42901, "TOO_MANY_REQUESTS");
    CHECK(refused.header("Retry-After").has_value());
    CHECK_THAT(refused.header("RateLimit-Policy").value_or(""), StartsWith("\"get-account-penalties\";q=5;w="));
    CHECK_THAT(refused.header("RateLimit").value_or(""), StartsWith("\"get-account-penalties\";r=0;t="));
    CHECK(g.rate_limited() == tallies[0].limited + tallies[1].limited);
}

// ---------------------------------------------------------------------------------------------
// 3. Keyed limits.

TEST_CASE("global rate limit: a header-keyed limit gives each key one budget across gateways, in TTL'd Redis keys that do not hold the raw value") {
    RedisServer redis;
    MockBackend mock;
    TempDir dir;
    const std::string config = dir.write(
        "routes.yaml", global_config(mock.endpoint(), redis_yaml({redis.endpoint()}),
                                     "requests_per_second: 1, burst: 3, key: \"header:x-api-key\", scope: global"));
    Limited a(config, mock.endpoint());
    Limited b(config, mock.endpoint());
    a.warm_up();
    b.warm_up();
    reset_mock_request_count(mock.port());

    // Each key's budget is 3 (a token comes back only after a second; the eight requests take
    // milliseconds), spent alternately through the two gateways: the fourth request of a key
    // is refused whichever gateway it reaches. The other key's budget is untouched.
    const auto start = Clock::now();
    std::vector<int> alpha, beta;
    for (int i = 0; i < 4; ++i) {
        Limited& via = i % 2 == 0 ? a : b;
        alpha.push_back(via.get(kPenalty, {{i % 2 == 0 ? "x-api-key" : "X-Api-Key", "alpha-7f3a"}}).status);
    }
    for (int i = 0; i < 4; ++i) {
        Limited& via = i % 2 == 0 ? b : a;
        beta.push_back(via.get(kPenalty, {{"x-api-key", "beta-91c2"}}).status);
    }
    INFO("took " << ms_since(start) << " ms");
    CHECK(alpha == std::vector<int>{200, 200, 200, 429});
    CHECK(beta == std::vector<int>{200, 200, 200, 429});
    CHECK(mock_request_count(mock.port()) == 6);
    CHECK(a.fallbacks() + b.fallbacks() == 0);

    // The buckets are Redis keys under the route's hash tag, one per header value, each with a
    // TTL (an idle key must expire), and named by something other than the raw header value
    // (which may be a credential).
    const auto keys = route_keys(redis);
    std::string listed;
    for (const auto& key : keys) listed += key + "\n";
    INFO("keys:\n" << listed);
    CHECK(keys.size() >= 2);
    for (const auto& key : keys) {
        CHECK_THAT(key, StartsWith(std::string(kRouteKey) + ":"));
        CHECK_THAT(lower(key), !Contains("alpha") && !Contains("7f3a") && !Contains("beta") && !Contains("91c2"));
        CHECK(std::stol(redis.command({"PTTL", key})) > 0);
    }
}

// ---------------------------------------------------------------------------------------------
// 4. A Redis that stops answering (SIGSTOP).

TEST_CASE("global rate limit: a paused Redis costs at most timeout_ms per decision, allow forwards meanwhile, the breaker opens, and limiting resumes after SIGCONT") {
    RedisServer redis;
    MockBackend mock;
    TempDir dir;
    const std::string config = dir.write(
        "routes.yaml", global_config(mock.endpoint(), redis_yaml({redis.endpoint()}, "  timeout_ms: 10\n"),
                                     "requests_per_second: 5, burst: 5, key: route, scope: global, "
                                     "on_redis_error: allow"));
    Limited g(config, mock.endpoint());
    g.warm_up();

    // The baseline: Redis healthy, the bucket soon empty (429s prove that Redis decides).
    Tally baseline = drive(*g.client, Clock::now() + milliseconds(600));
    INFO("baseline: " << baseline.describe());
    REQUIRE(baseline.limited > 0);
    const double baseline_p99 = quantile(baseline.latency_ms, 0.99);
    const double timeouts_before = g.fallbacks("timeout");
    const double breaker_before = g.fallbacks("breaker_open");

    // Paused: the kernel still accepts and buffers, Redis answers nothing. Each decision must
    // give up after timeout_ms (10) and forward (allow); after three, the breaker skips Redis.
    redis.pause();
    Tally paused = drive(*g.client, Clock::now() + milliseconds(800));
    const double paused_max = quantile(paused.latency_ms, 1.0);
    INFO("paused: " << paused.describe());
    // The promise is "within timeout_ms + a few ms of what a request took before". A fixed few
    // ms does not hold in a sanitizer build under ctest -j2 (scheduling alone adds more), so the
    // bound is the baseline's p99 (measured here, on this machine, in this build) + timeout_ms
    // + 25 ms of slack. A decision that waited on the paused Redis (no timeout) would take the
    // whole 800 ms or the client's 5 s.
    CHECK(paused.total() > 20);
    CHECK(paused.ok == paused.total());
    CHECK(paused_max < baseline_p99 + 10 + 25);
    CHECK(g.fallbacks("timeout") > timeouts_before);
    CHECK(g.fallbacks("breaker_open") > breaker_before);

    // Resumed: within about a second (the breaker's longest interval, 1 s, then one trial)
    // decisions come from Redis again, and the bucket, exhausted by the requests that follow,
    // refuses again.
    redis.resume();
    const auto back = until_status(*g.client, 429, milliseconds(2000));
    REQUIRE(back);
    INFO("first 429 " << *back << " ms after SIGCONT");
    CHECK(*back < 1500);
}

TEST_CASE("global rate limit: with on_redis_error: deny, a paused Redis gets 503 50303 with Retry-After, quickly, and nothing forwarded") {
    RedisServer redis;
    MockBackend mock;
    TempDir dir;
    const std::string config = dir.write(
        "routes.yaml", global_config(mock.endpoint(), redis_yaml({redis.endpoint()}, "  timeout_ms: 10\n"),
                                     "requests_per_second: 5, burst: 5, key: route, scope: global, "
                                     "on_redis_error: deny"));
    Limited g(config, mock.endpoint());
    g.warm_up();
    Tally baseline = drive(*g.client, Clock::now() + milliseconds(600));
    INFO("baseline: " << baseline.describe());
    REQUIRE(baseline.ok > 0);
    REQUIRE(baseline.limited > 0);
    const double baseline_p99 = quantile(baseline.latency_ms, 0.99);

    redis.pause();
    const long forwarded_before = mock_request_count(mock.port());
    Tally paused = drive(*g.client, Clock::now() + milliseconds(800));
    INFO("paused: " << paused.describe());
    CHECK(paused.total() > 20);
    CHECK(paused.unavailable == paused.total());
    CHECK(mock_request_count(mock.port()) == forwarded_before);  // deny forwards nothing
    REQUIRE(paused.first_unavailable);
    EXPECT_ERROR(*paused.first_unavailable, 503, 50303, "SERVICE_UNAVAILABLE");
    CHECK(paused.first_unavailable->header("Retry-After").has_value());
    // As with allow: at most the timeout (10 ms) over the baseline's p99, + 25 ms of slack for
    // sanitizer builds under ctest -j2.
    CHECK(quantile(paused.latency_ms, 1.0) < baseline_p99 + 10 + 25);
    CHECK(g.fallbacks("timeout") > 0);
    CHECK(g.fallbacks("breaker_open") > 0);

    // Resumed: the bucket refilled meanwhile (nothing spent it), so Redis admits again.
    redis.resume();
    const auto back = until_status(*g.client, 200, milliseconds(2000));
    REQUIRE(back);
    INFO("first 200 " << *back << " ms after SIGCONT");
    CHECK(*back < 1500);
}

// ---------------------------------------------------------------------------------------------
// 5. A Redis that goes away and comes back.

TEST_CASE("global rate limit: a stopped Redis is 'unavailable' (allow forwards), and limiting resumes within 1.5 s of its restart on the same port") {
    RedisServer redis;
    MockBackend mock;
    TempDir dir;
    const std::string config = dir.write(
        "routes.yaml", global_config(mock.endpoint(), redis_yaml({redis.endpoint()}, "  timeout_ms: 100\n"),
                                     "requests_per_second: 5, burst: 5, key: route, scope: global"));  // allow: the default
    Limited g(config, mock.endpoint());
    g.warm_up();
    REQUIRE(until_status(*g.client, 429, milliseconds(3000)));  // Redis limits: the bucket is empty

    const double unavailable_before = g.fallbacks("unavailable");
    redis.stop();  // connections reset, new ones refused
    Tally down = drive(*g.client, Clock::now() + milliseconds(500));
    INFO("down: " << down.describe());
    CHECK(down.total() > 10);
    CHECK(down.ok == down.total());
    CHECK(g.fallbacks("unavailable") > unavailable_before);

    // Back on the same port, empty (no persistence): the gateway reconnects by itself and the
    // fresh bucket's burst is spent, then refused.
    redis.restart();
    const auto back = until_status(*g.client, 429, milliseconds(3000));
    REQUIRE(back);
    INFO("first 429 " << *back << " ms after the restart");
    CHECK(*back < 1500);
    CHECK_FALSE(route_keys(redis).empty());
}

// ---------------------------------------------------------------------------------------------
// 6. SCRIPT FLUSH.

TEST_CASE("global rate limit: after SCRIPT FLUSH the decisions still come from Redis: no fallbacks, still refusing") {
    // A gateway that runs its decision as a cached script (EVALSHA) gets NOSCRIPT once the
    // cache is flushed (a Redis restart, a failover to a replica that never saw the script, an
    // operator): it must load the script again, not count errors and fall back.
    RedisServer redis;
    MockBackend mock;
    TempDir dir;
    const std::string config = dir.write(
        "routes.yaml", global_config(mock.endpoint(), redis_yaml({redis.endpoint()}),
                                     "requests_per_second: 5, burst: 5, key: route, scope: global"));
    Limited g(config, mock.endpoint());
    g.warm_up();
    REQUIRE(until_status(*g.client, 429, milliseconds(3000)));
    INFO("scripts cached before the flush: "
         << info_field(redis.command({"INFO", "memory"}), "number_of_cached_scripts"));
    const double fallbacks_before = g.fallbacks("") + g.fallbacks("", kWarmRoute);

    for (int flush = 0; flush < 2; ++flush) {
        CHECK(redis.command({"SCRIPT", "FLUSH"}) == "OK");
        const auto start = Clock::now();
        const long forwarded_before = mock_request_count(mock.port());
        Tally after = drive(*g.client, Clock::now() + milliseconds(700));
        const double elapsed = seconds_since(start);
        INFO("after flush " << flush + 1 << ": " << after.describe());
        CHECK(after.limited > 0);
        CHECK(after.other + after.unavailable == 0);
        // The bucket was empty at the flush: only what it refilled since gets through.
        CHECK(mock_request_count(mock.port()) - forwarded_before <= 5 * elapsed + 1);
    }
    CHECK(g.fallbacks("") + g.fallbacks("", kWarmRoute) == fallbacks_before);
}

// ---------------------------------------------------------------------------------------------
// 7. AUTH.

TEST_CASE("global rate limit: a Redis with requirepass is used with the password from password_env, and a wrong password is counted and allowed") {
    RedisOptions options;
    options.password = "it-redis-secret";
    RedisServer redis(options);
    MockBackend mock;
    TempDir dir;
    const std::string config = dir.write(
        "routes.yaml", global_config(mock.endpoint(),
                                     redis_yaml({redis.endpoint()},
                                                std::string(kGenerousTimeout) + "  password_env: GATEWAY_IT_REDIS_PASSWORD\n"),
                                     "requests_per_second: 1, burst: 3, key: route, scope: global"));

    SECTION("the right password: the limit is enforced, and a refusal carries the RateLimit fields") {
        Limited g(config, mock.endpoint(), {"GATEWAY_IT_REDIS_PASSWORD=it-redis-secret"});
        g.warm_up();
        reset_mock_request_count(mock.port());
        Tally tally;
        const auto start = Clock::now();
        for (int i = 0; i < 6; ++i) {
            const auto sent = Clock::now();
            tally.add(g.get(), sent);
        }
        INFO(tally.describe() << " in " << ms_since(start) << " ms");
        CHECK(tally.ok == 3);  // burst 3, and the next token only after a second
        CHECK(tally.limited == 3);
        CHECK(mock_request_count(mock.port()) == 3);
        CHECK(g.fallbacks() == 0);
        REQUIRE(tally.first_limited);
        const HttpResponse& refused = *tally.first_limited;
        EXPECT_ERROR(refused, 429, 42901, "TOO_MANY_REQUESTS");
        CHECK(refused.header("Retry-After") == std::optional<std::string>("1"));
        CHECK(refused.header("RateLimit-Policy") == std::optional<std::string>("\"get-account-penalties\";q=3;w=3"));
        CHECK_THAT(refused.header("RateLimit").value_or(""), StartsWith("\"get-account-penalties\";r=0;t="));
        CHECK(g.rate_limited() == 3);
        CHECK_FALSE(route_keys(redis).empty());
    }

    SECTION("a wrong password: every decision falls back (error or unavailable), and allow forwards all") {
        Limited g(config, mock.endpoint(), {"GATEWAY_IT_REDIS_PASSWORD=not-the-password"});
        reset_mock_request_count(mock.port());
        Tally tally = drive(*g.client, Clock::now() + milliseconds(500));
        INFO(tally.describe());
        CHECK(tally.total() > 10);  // far more than the burst of 3
        CHECK(tally.ok == tally.total());
        CHECK(mock_request_count(mock.port()) == tally.total());
        CHECK(g.fallbacks("error") + g.fallbacks("unavailable") > 0);
        CHECK(route_keys(redis).empty());
    }
}

// ---------------------------------------------------------------------------------------------
// 8. Redis Cluster.

TEST_CASE("global rate limit: on a Redis Cluster the limit holds, and still holds across a failover of the master that owns its key") {
    RedisCluster cluster;
    const int slot = cluster.slot_of(kRouteKey);
    RedisServer& owner = cluster.master_for_slot(slot);
    MockBackend mock;
    TempDir dir;
    const std::string config = dir.write(
        "routes.yaml", global_config(mock.endpoint(),
                                     redis_yaml(cluster.seed_endpoints(), "  cluster: true\n  timeout_ms: 100\n"),
                                     "requests_per_second: 10, burst: 5, key: route, scope: global"));
    Limited g(config, mock.endpoint());
    g.warm_up();
    reset_mock_request_count(mock.port());

    // Phase A, as in the window-edge test: back to back for 2 s, counted at the mock.
    const auto start = Clock::now();
    Tally a = drive(*g.client, start + milliseconds(2000));
    const double elapsed_a = seconds_since(start);
    const long forwarded_a = mock_request_count(mock.port());
    INFO("phase A: " << a.describe() << "; forwarded " << forwarded_a << " in " << elapsed_a << " s");
    CHECK(forwarded_a <= 5 + 10 * elapsed_a + 1);
    CHECK(forwarded_a >= 0.9 * (5 + 10 * elapsed_a) - 1);
    CHECK(a.limited > 0);
    CHECK_FALSE(route_keys(owner).empty());  // the bucket lives on the slot's master

    // Phase B: a client paced at 2 x rate keeps requesting while the slot's master hands over
    // to its replica (CLUSTER FAILOVER) and for 1.5 s after.
    std::atomic<bool> stop{false};
    Tally b;
    Background client([&] {
        HttpClient paced(g.gateway->port());
        b = drive(paced, Clock::now() + milliseconds(15000), 20, {}, &stop);
    });
    const auto failover_start = Clock::now();
    RedisServer* promoted = nullptr;
    try {
        promoted = &cluster.failover(owner);
    } catch (...) {
        stop = true;  // Background's destructor joins the client
        throw;
    }
    const auto failover_end = Clock::now();
    const long forwarded_at_failover_end = mock_request_count(mock.port());
    std::this_thread::sleep_for(milliseconds(1500));
    stop = true;
    client.join();
    const auto end = Clock::now();
    const double elapsed = seconds_since(start);
    const double after = std::chrono::duration<double>(end - failover_end).count();
    const long forwarded = mock_request_count(mock.port());
    const long limited_after = std::count_if(b.limited_at.begin(), b.limited_at.end(),
                                             [&](Clock::time_point at) { return at > failover_end; });

    const double failover_ms = std::chrono::duration<double, std::milli>(failover_end - failover_start).count();
    INFO("phase B: " << b.describe() << "; failover took " << failover_ms << " ms; fallbacks "
                     << g.fallbacks() << " (timeout " << g.fallbacks("timeout") << ", unavailable " << g.fallbacks("unavailable") << ", error " << g.fallbacks("error")
                     << ", breaker_open " << g.fallbacks("breaker_open") << ")");
    INFO("forwarded " << forwarded << " in " << elapsed << " s (" << forwarded - forwarded_at_failover_end
                      << " in the " << after << " s after the failover)");
    CHECK(&cluster.master_for_slot(slot) == promoted);
    CHECK(b.other + b.unavailable == 0);
    // The margin for the failover: while the master hands over, the gateway's decisions for
    // the slot may wait past timeout_ms or meet a node that no longer owns it, and with
    // on_redis_error: allow each of those requests is forwarded without spending a token. The
    // client sends 2 x rate = 20 a second and a manual failover's hand-over takes well under
    // 0.5 s, so at most 2 x rate x 0.5 s = 10 requests can pass that way. Anything beyond that
    // means the gateway lost the bucket or kept falling back after the failover.
    CHECK(forwarded <= 5 + 10 * elapsed + 1 + 2 * 10 * 0.5);
    // After the failover the new master decides: still refusing, and admitting no more than the
    // bucket refills (plus a burst: the fallbacks during the hand-over spent no tokens).
    CHECK(limited_after > 0);
    CHECK(forwarded - forwarded_at_failover_end <= 5 + 10 * after + 1);
}

// ---------------------------------------------------------------------------------------------
// 9. --check and start-up.

TEST_CASE("global rate limit: --check knows the redis section, requires it for scope: global, and warns about an unset password_env, which stops a start") {
    TempDir dir;
    const std::string unset_variable = "GATEWAY_IT_UNSET_REDIS_PASSWORD";

    SECTION("a valid redis section and a global limit pass") {
        const std::string text = global_config(
            "127.0.0.1:9001",
            redis_yaml({"127.0.0.1:6379"}, "  cluster: false\n  timeout_ms: 5\n  pool_size: 2\n"),
            "requests_per_second: 100, burst: 100, key: \"header:x-api-key\", scope: global, on_redis_error: deny");
        const std::string file = dir.write("routes.yaml", text);
        const auto result = run_to_completion(GATEWAY_BIN, {"--check", "--config", file});
        INFO("stdout: " << result.out << "\nstderr: " << result.err);
        CHECK(result.exit_code == 0);
        CHECK_THAT(result.out, Contains("OK, 2 routes"));
        CHECK(result.err.empty());
    }

    SECTION("scope: global without a redis section is an error at its position") {
        const std::string text = global_config("127.0.0.1:9001", "", "requests_per_second: 10, scope: global", "");
        const std::string file = dir.write("routes.yaml", text);
        const auto result = run_to_completion(GATEWAY_BIN, {"--check", "--config", file});
        INFO("stdout: " << result.out << "\nstderr: " << result.err);
        CHECK(result.exit_code == 1);
        // "FILE:LINE:COL: ..." on the rate_limit line (its flow mapping holds the scope).
        const std::string prefix = file + ":" + line_of(text, "scope: global") + ":";
        bool found = false;
        std::istringstream lines(result.err);
        for (std::string line; std::getline(lines, line);) {
            found = found || (line.rfind(prefix, 0) == 0 && lower(line).find("redis") != std::string::npos);
        }
        CHECK(found);
    }

    const std::string text = global_config(
        "127.0.0.1:9001", redis_yaml({"127.0.0.1:6379"}, "  password_env: " + unset_variable + "\n"),
        "requests_per_second: 10, scope: global");
    const std::string file = dir.write("routes.yaml", text);

    SECTION("password_env naming an unset variable: --check warns, naming it, and passes") {
        const auto result =
            run_to_completion("/usr/bin/env", {"-u", unset_variable, GATEWAY_BIN, "--check", "--config", file});
        INFO("stdout: " << result.out << "\nstderr: " << result.err);
        CHECK(result.exit_code == 0);
        CHECK_THAT(result.err, Contains("warning") && Contains(unset_variable));
        CHECK_THAT(result.err, Contains(file + ":" + line_of(text, "password_env") + ":"));
    }

    SECTION("password_env naming an unset variable: the gateway does not start, and says why") {
        const auto result = run_to_completion(
            "/usr/bin/env",
            {"-u", unset_variable, GATEWAY_BIN, "--config", file, "--listen", "127.0.0.1:0", "--threads", "1"},
            milliseconds(10000));
        INFO("stdout: " << result.out << "\nstderr: " << result.err);
        CHECK(result.exit_code > 0);  // exited by itself (-1: still running at the deadline)
        CHECK_THAT(result.out, !Contains("listening on"));
        CHECK_THAT(result.err, Contains(unset_variable));
    }
}

// ---------------------------------------------------------------------------------------------
// 10. Admin /ratelimits.

TEST_CASE("global rate limit: admin /ratelimits lists each limit with its counts and Redis 'up', then 'down' once Redis is gone") {
    RedisServer redis;
    MockBackend mock;
    TempDir dir;
    const std::string local_route =
        "  - name: get-subscription-penalties\n"
        "    method: GET\n"
        "    path: /v2/orgs/{orgId}/penalties/{accountId:int64}/subscriptions/{subscriptionId:int64}\n"
        "    roles: [API_KEY]\n"
        "    upstream: penalties\n"
        "    rate_limit: {requests_per_second: 7, burst: 9, key: client_ip}\n";
    const std::string config = dir.write(
        "routes.yaml", global_config(mock.endpoint(), redis_yaml({redis.endpoint()}, "  timeout_ms: 100\n"),
                                     "requests_per_second: 1, burst: 3, key: \"header:x-api-key\", scope: global, "
                                     "on_redis_error: allow",
                                     kWarmLimit, local_route));
    Limited g(config, mock.endpoint());
    g.warm_up();
    Tally tally;
    for (int i = 0; i < 7; ++i) {
        const auto sent = Clock::now();
        tally.add(g.get(kPenalty, {{"x-api-key", "k1"}}), sent);
    }
    INFO(tally.describe());
    REQUIRE(tally.ok == 3);
    REQUIRE(tally.limited == 4);

    const std::string up = g.ratelimits();
    INFO("/ratelimits: " << up);
    REQUIRE(is_json(up));
    const std::string redis_status = json_object(up, "redis");
    CHECK(json_string(redis_status, "state") == "up");
    CHECK(json_number(redis_status, "cluster") == 0);
    CHECK_THAT(redis_status, Contains("\"" + redis.endpoint() + "\""));
    CHECK(json_number(redis_status, "consecutive_failures") == 0);

    const std::string limited = limit_entry(up, kRoute);
    REQUIRE_FALSE(limited.empty());
    CHECK(json_string(limited, "scope") == "global");
    CHECK(json_string(limited, "key") == "header:x-api-key");
    CHECK(json_number(limited, "requests_per_second") == 1);
    CHECK(json_number(limited, "burst") == 3);
    CHECK(json_string(limited, "on_redis_error") == "allow");
    CHECK(json_number(limited, "allowed") == 3);
    CHECK(json_number(limited, "denied") == 4);
    CHECK(json_number(limited, "fallback") == 0);
    CHECK(g.rate_limited() == 4);

    const std::string local = limit_entry(up, "get-subscription-penalties");
    REQUIRE_FALSE(local.empty());
    CHECK(json_string(local, "scope") == "local");
    CHECK(json_string(local, "key") == "client_ip");
    CHECK(json_number(local, "requests_per_second") == 7);
    CHECK(json_number(local, "burst") == 9);

    // Redis gone: a few requests (each a failed decision, then the breaker) and the state says
    // so, with the failures and the fallbacks counted.
    redis.stop();
    std::string down;
    const bool went_down = poll_until([&] {
        for (int i = 0; i < 3; ++i) g.get(kPenalty, {{"x-api-key", "k2"}});
        down = g.ratelimits();
        return json_string(json_object(down, "redis"), "state") == "down";
    }, Clock::now() + milliseconds(5000), milliseconds(20));
    INFO("/ratelimits after the stop: " << down);
    CHECK(went_down);
    CHECK(json_number(json_object(down, "redis"), "consecutive_failures") >= 3);
    CHECK(json_number(limit_entry(down, kRoute), "fallback") > 0);
    CHECK(json_number(limit_entry(down, kRoute), "denied") == 4);
}

// ---------------------------------------------------------------------------------------------
// 11. A reload that moves the limits to another Redis.

TEST_CASE("global rate limit: a reload that names another Redis moves the decisions there, and one whose password variable is unset is refused") {
    RedisServer first;
    RedisServer second;
    MockBackend mock;
    TempDir dir;
    const std::string limit = "requests_per_second: 1, burst: 2, key: route, scope: global";
    const std::string config = dir.write(
        "routes.yaml", global_config(mock.endpoint(), redis_yaml({first.endpoint()}), limit));
    Limited g(config, mock.endpoint());
    g.warm_up();
    CHECK(g.get().status == 200);
    CHECK_FALSE(route_keys(first).empty());
    CHECK(route_keys(second).empty());

    // Editor-style: a new file renamed over the old one; the watcher reloads it.
    dir.write("routes.yaml.new", global_config(mock.endpoint(), redis_yaml({second.endpoint()}), limit));
    std::filesystem::rename(dir.path() / "routes.yaml.new", config);
    const bool moved = [&] {
        const auto deadline = Clock::now() + milliseconds(5000);
        while (Clock::now() < deadline) {
            if (g.ratelimits().find(second.endpoint()) != std::string::npos) return true;
            std::this_thread::sleep_for(milliseconds(20));
        }
        return false;
    }();
    REQUIRE(moved);
    // The new Redis's bucket is full: two requests pass (the first Redis's would have one
    // left at most), and its key appears there.
    const auto until = Clock::now() + milliseconds(3000);
    bool in_second = false;
    while (!in_second && Clock::now() < until) {
        g.get();
        in_second = !route_keys(second).empty();
    }
    CHECK(in_second);

    // A config that needs an unset variable is refused on reload; the last good one serves on.
    ::unsetenv("GATEWAY_TEST_UNSET_REDIS_PASSWORD");
    const std::string broken = global_config(
        mock.endpoint(),
        redis_yaml({first.endpoint()}, std::string(kGenerousTimeout) +
                                           "  password_env: GATEWAY_TEST_UNSET_REDIS_PASSWORD\n"),
        limit);
    dir.write("routes.yaml.new", broken);
    std::filesystem::rename(dir.path() / "routes.yaml.new", config);
    const auto refused_by = Clock::now() + milliseconds(5000);
    while (g.admin("/routes").find("\"failed_reloads\":1") == std::string::npos && Clock::now() < refused_by) {
        std::this_thread::sleep_for(milliseconds(20));
    }
    CHECK_THAT(g.admin("/routes"), Contains("\"failed_reloads\":1"));
    const std::string state = g.ratelimits();
    INFO(state);
    CHECK_THAT(state, Contains(second.endpoint()));
}
