// routes.yaml's `redis:` section and the rate_limit keys of global limits (scope,
// on_redis_error): what a good file loads into, its defaults, and what `--check` (load_config)
// and serving (load_serving_config) say about each mistake, at its line and column.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "config/config_loader.hpp"
#include "config/temp_config.hpp"

using namespace gateway;

namespace {

/// The lines after `redis` (the file's first lines, possibly none): one upstream and one route,
/// whose last line is `route` (its rate_limit, say).
std::string config_text(const std::string& redis, const std::string& route) {
    return redis +
           "upstreams:\n"
           "  penalties:\n"
           "    endpoints: [127.0.0.1:9002]\n"
           "routes:\n"
           "  - name: get-account-penalties\n"
           "    method: GET\n"
           "    path: /v2/orgs/{orgId}/penalties/{accountId:int64}\n"
           "    roles: [API_KEY]\n"
           "    upstream: penalties\n" +
           route;
}

const std::string kRedis = "redis:\n  endpoints: [127.0.0.1:6379]\n";
const std::string kGlobal = "    rate_limit: {requests_per_second: 50, scope: global}\n";

LoadResult load(const std::string& redis, const std::string& route) {
    TempConfig files;
    return load_config(files.write(config_text(redis, route)));
}

LoadResult load_serving(const std::string& redis, const std::string& route) {
    TempConfig files;
    return load_serving_config(files.write(config_text(redis, route)));
}

std::string listed(const std::vector<Diagnostic>& diagnostics) {
    std::string all;
    for (const auto& d : diagnostics) {
        all += std::to_string(d.line) + ":" + std::to_string(d.column) + ": " + d.message + "\n";
    }
    return all;
}

/// The 1-based line and column of `at` in `text`: `at` occurs there once, and a '^' in it marks
/// the character meant (its first without one).
std::pair<int, int> position_of(const std::string& text, std::string at) {
    std::size_t shift = 0;
    if (const auto caret = at.find('^'); caret != std::string::npos) {
        shift = caret;
        at.erase(caret, 1);
    }
    const std::size_t found = text.find(at);
    REQUIRE(found != std::string::npos);
    REQUIRE(text.find(at, found + 1) == std::string::npos);  // unambiguous
    const std::size_t pos = found + shift;
    const std::size_t line_start = pos == 0 ? 0 : text.rfind('\n', pos - 1) + 1;  // npos + 1 is 0
    const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
    return {line, static_cast<int>(pos - line_start) + 1};
}

/// A variable no test environment sets (and unset again, to be sure).
constexpr const char* kUnsetVariable = "GATEWAY_TEST_REDIS_PASSWORD_SURELY_UNSET_7f3a";
constexpr const char* kSetVariable = "GATEWAY_TEST_REDIS_PASSWORD";

}  // namespace

TEST_CASE("redis config: a full redis section and a global limit load") {
    REQUIRE(setenv(kSetVariable, "s3cret pass", 1) == 0);
    const auto result = load("redis:\n"
                             "  endpoints: [10.0.0.1:7000, redis-2.internal:7001, \"[::1]:7002\"]\n"
                             "  cluster: true\n"
                             "  password_env: GATEWAY_TEST_REDIS_PASSWORD\n"
                             "  timeout_ms: 20\n"
                             "  pool_size: 4\n",
                             "    rate_limit: {requests_per_second: 50, burst: 100, key: client_ip, "
                             "scope: global, on_redis_error: deny}\n");
    INFO(listed(result.diagnostics));
    REQUIRE(result.config);
    CHECK(result.warnings.empty());
    REQUIRE(result.config->redis);
    const RedisConfig& redis = *result.config->redis;
    REQUIRE(redis.endpoints.size() == 3);
    CHECK(redis.endpoints[0].host == "10.0.0.1");
    CHECK(redis.endpoints[0].port == 7000);
    CHECK(redis.endpoints[1].host == "redis-2.internal");
    CHECK(redis.endpoints[1].port == 7001);
    CHECK(redis.endpoints[2].host == "::1");
    CHECK(redis.endpoints[2].port == 7002);
    CHECK(redis.cluster);
    CHECK(redis.password_env == kSetVariable);
    CHECK(redis.password == "s3cret pass");
    CHECK(redis.timeout == std::chrono::milliseconds(20));
    CHECK(redis.pool_size == 4);

    const auto& limit = result.config->routes.at(0).rate_limit;
    REQUIRE(limit);
    CHECK(limit->requests_per_second == 50);
    CHECK(limit->burst == 100);
    CHECK(limit->key == RateLimit::Key::client_ip);
    CHECK(limit->scope == RateLimit::Scope::global);
    CHECK(limit->on_redis_error == RateLimit::OnRedisError::deny);
    unsetenv(kSetVariable);
}

TEST_CASE("redis config: serving, a redis section with its password set loads, its endpoint resolved") {
    REQUIRE(setenv(kSetVariable, "pw", 1) == 0);
    const auto result = load_serving("redis:\n"
                                     "  endpoints: [127.0.0.1:6379]\n"
                                     "  password_env: GATEWAY_TEST_REDIS_PASSWORD\n",
                                     kGlobal);
    INFO(listed(result.diagnostics));
    REQUIRE(result.config);
    REQUIRE(result.config->redis);
    CHECK(result.config->redis->password == "pw");
    REQUIRE(result.config->redis->endpoints.size() == 1);
    CHECK(result.config->redis->endpoints[0].address == "127.0.0.1");
    unsetenv(kSetVariable);
}

TEST_CASE("redis config: the defaults") {
    const auto result = load("redis: {endpoints: [127.0.0.1:6379]}\n", kGlobal);
    INFO(listed(result.diagnostics));
    REQUIRE(result.config);
    CHECK(result.warnings.empty());
    REQUIRE(result.config->redis);
    const RedisConfig& redis = *result.config->redis;
    REQUIRE(redis.endpoints.size() == 1);
    CHECK(redis.endpoints[0].host == "127.0.0.1");
    CHECK(redis.endpoints[0].port == 6379);
    CHECK_FALSE(redis.cluster);
    CHECK(redis.password_env.empty());
    CHECK(redis.password.empty());
    CHECK(redis.timeout == std::chrono::milliseconds(5));
    CHECK(redis.pool_size == 2);
    // A global limit that says nothing else fails open.
    const auto& limit = *result.config->routes.at(0).rate_limit;
    CHECK(limit.scope == RateLimit::Scope::global);
    CHECK(limit.on_redis_error == RateLimit::OnRedisError::allow);
}

TEST_CASE("redis config: without scope a limit is local, allow, and there is no redis") {
    const auto result = load("", "    rate_limit: {requests_per_second: 50}\n");
    INFO(listed(result.diagnostics));
    REQUIRE(result.config);
    CHECK(result.warnings.empty());
    CHECK_FALSE(result.config->redis);
    const auto& limit = *result.config->routes.at(0).rate_limit;
    CHECK(limit.scope == RateLimit::Scope::local);
    CHECK(limit.on_redis_error == RateLimit::OnRedisError::allow);
    CHECK(limit.max_keys == 16384);

    const auto local = load("", "    rate_limit: {requests_per_second: 50, scope: local, max_keys: 10}\n");
    INFO(listed(local.diagnostics));
    REQUIRE(local.config);
    CHECK(local.config->routes.at(0).rate_limit->scope == RateLimit::Scope::local);
    CHECK(local.config->routes.at(0).rate_limit->max_keys == 10);
}

TEST_CASE("redis config: the bounds themselves load") {
    const auto low = load("redis:\n  endpoints: [127.0.0.1:6379]\n  timeout_ms: 1\n  pool_size: 1\n", kGlobal);
    INFO(listed(low.diagnostics));
    REQUIRE(low.config);
    CHECK(low.config->redis->timeout == std::chrono::milliseconds(1));
    CHECK(low.config->redis->pool_size == 1);
    const auto high = load("redis:\n  endpoints: [127.0.0.1:6379]\n  timeout_ms: 1000\n  pool_size: 64\n", kGlobal);
    INFO(listed(high.diagnostics));
    REQUIRE(high.config);
    CHECK(high.config->redis->timeout == std::chrono::milliseconds(1000));
    CHECK(high.config->redis->pool_size == 64);
    // cluster: true with a single seed is fine too.
    const auto one_seed = load("redis: {endpoints: [127.0.0.1:7000], cluster: true}\n", kGlobal);
    INFO(listed(one_seed.diagnostics));
    REQUIRE(one_seed.config);
    CHECK(one_seed.config->redis->cluster);
}

namespace {

struct Mistake {
    const char* what;
    std::string redis;
    std::string route;
    std::string at;  // where the diagnostic points (see position_of)
    std::string fragment;
};

const Mistake kMistakes[] = {
    {"scope: global without a redis section", "", kGlobal, "scope: ^global",
     "rate_limit scope: global keeps its buckets in Redis, but there is no 'redis:' section"},
    {"an unknown scope", kRedis, "    rate_limit: {requests_per_second: 50, scope: globl}\n", "globl",
     "scope must be one of local, global, got 'globl'; did you mean 'global'?"},
    {"an unknown scope without redis", "", "    rate_limit: {requests_per_second: 50, scope: Global}\n",
     "Global", "got 'Global'; did you mean 'global'?"},
    // The scope's mistake alone: on_redis_error is not also blamed for a scope that did not read.
    {"an unknown scope with on_redis_error", kRedis,
     "    rate_limit: {requests_per_second: 50, scope: globl, on_redis_error: deny}\n", "globl",
     "scope must be one of local, global, got 'globl'; did you mean 'global'?"},
    {"on_redis_error on a limit without scope", "",
     "    rate_limit: {requests_per_second: 50, on_redis_error: deny}\n", "deny",
     "on_redis_error applies to scope: global limits only"},
    {"on_redis_error on a local limit", "",
     "    rate_limit: {requests_per_second: 50, scope: local, on_redis_error: allow}\n", "on_redis_error: ^allow",
     "on_redis_error applies to scope: global limits only"},
    {"an unknown on_redis_error", kRedis,
     "    rate_limit: {requests_per_second: 50, scope: global, on_redis_error: dney}\n", "dney",
     "on_redis_error must be one of allow, deny, got 'dney'; did you mean 'deny'?"},
    {"max_keys on a global limit", kRedis,
     "    rate_limit: {requests_per_second: 50, max_keys: 1000, scope: global}\n", "1000",
     "max_keys bounds a local limit's buckets"},
    {"an unknown key in redis", "redis:\n  endpoints: [127.0.0.1:6379]\n  timeout: 5\n", kGlobal,
     "^timeout: 5", "unknown key 'timeout' in redis; did you mean 'timeout_ms'?"},
    {"redis left empty", "redis:\n", kGlobal, "^redis:", "redis must be a mapping"},
    {"redis as a list", "redis: [127.0.0.1:6379]\n", kGlobal, "^[127.0.0.1:6379]", "redis must be a mapping"},
    {"redis without endpoints", "redis:\n  pool_size: 2\n", kGlobal, "^pool_size",
     "redis needs 'endpoints'"},
    {"redis endpoints empty", "redis:\n  endpoints: []\n", kGlobal, "^[]", "redis endpoints must"},
    {"redis endpoints not a list", "redis:\n  endpoints: 127.0.0.1:6379\n", kGlobal, "^127.0.0.1:6379",
     "redis endpoints must be a list"},
    {"a redis endpoint with a scheme", "redis:\n  endpoints: [\"redis://x:1\"]\n", kGlobal,
     "^\"redis://x:1\"", "endpoint 'redis://x:1' of redis must be HOST:PORT"},
    {"a redis endpoint without a port", "redis:\n  endpoints: [127.0.0.1:6379, localhost]\n  cluster: true\n",
     kGlobal, "localhost", "endpoint 'localhost' of redis must be HOST:PORT"},
    {"two endpoints without cluster", "redis:\n  endpoints: [127.0.0.1:6379, 127.0.0.1:6380]\n", kGlobal,
     "^[127.0.0.1:6379", "redis endpoints lists 2 servers but cluster is false"},
    {"timeout_ms 0", "redis:\n  endpoints: [127.0.0.1:6379]\n  timeout_ms: 0\n", kGlobal, "timeout_ms: ^0",
     "redis timeout_ms must be between 1 and 1000, got 0"},
    {"timeout_ms 1001", "redis:\n  endpoints: [127.0.0.1:6379]\n  timeout_ms: 1001\n", kGlobal, "1001",
     "redis timeout_ms must be between 1 and 1000, got 1001"},
    {"pool_size 0", "redis:\n  endpoints: [127.0.0.1:6379]\n  pool_size: 0\n", kGlobal, "pool_size: ^0",
     "redis pool_size must be between 1 and 64, got 0"},
    {"pool_size 65", "redis:\n  endpoints: [127.0.0.1:6379]\n  pool_size: 65\n", kGlobal, "65",
     "redis pool_size must be between 1 and 64, got 65"},
    {"a password_env with a dash", "redis:\n  endpoints: [127.0.0.1:6379]\n  password_env: REDIS-PASSWORD\n",
     kGlobal, "REDIS-PASSWORD",
     "redis password_env must name an environment variable (letters, digits and _), got 'REDIS-PASSWORD'"},
    {"a password_env starting with a digit", "redis:\n  endpoints: [127.0.0.1:6379]\n  password_env: 1PASS\n",
     kGlobal, "1PASS", "redis password_env must name an environment variable"},
    {"a password_env that is a $reference", "redis:\n  endpoints: [127.0.0.1:6379]\n  password_env: $REDIS_PASSWORD\n",
     kGlobal, "$REDIS_PASSWORD", "got '$REDIS_PASSWORD'"},
};

}  // namespace

TEST_CASE("redis config: each mistake is one diagnostic at its place") {
    for (const auto& mistake : kMistakes) {
        const std::string text = config_text(mistake.redis, mistake.route);
        const auto [line, column] = position_of(text, mistake.at);
        const auto result = load(mistake.redis, mistake.route);
        INFO(mistake.what << "\n" << text << "--\n" << listed(result.diagnostics));
        CHECK_FALSE(result.config);
        CHECK(result.diagnostics.size() == 1);
        REQUIRE_FALSE(result.diagnostics.empty());
        const auto& d = result.diagnostics.front();
        CHECK(d.line == line);
        CHECK(d.column == column);
        CHECK_THAT(d.message, Catch::Contains(mistake.fragment));
    }
}

TEST_CASE("redis config: a password_env naming an unset variable warns with --check and fails serving") {
    unsetenv(kUnsetVariable);
    REQUIRE(std::getenv(kUnsetVariable) == nullptr);
    const std::string redis = std::string("redis:\n  endpoints: [127.0.0.1:6379]\n  password_env: ") +
                              kUnsetVariable + "\n";
    const auto [line, column] = position_of(config_text(redis, kGlobal), kUnsetVariable);

    const auto check = load(redis, kGlobal);
    INFO(listed(check.diagnostics) << listed(check.warnings));
    REQUIRE(check.config);
    CHECK(check.diagnostics.empty());
    REQUIRE(check.warnings.size() == 1);
    const auto& warning = check.warnings.front();
    CHECK(warning.line == line);
    CHECK(warning.column == column);
    CHECK_THAT(warning.message, Catch::StartsWith("warning: "));
    CHECK_THAT(warning.message, Catch::Contains(std::string("the environment variable ") + kUnsetVariable +
                                                " is not set, so AUTH cannot be sent"));
    CHECK_THAT(warning.message, Catch::Contains("the gateway will not start without it"));
    REQUIRE(check.config->redis);

    const auto serving = load_serving(redis, kGlobal);
    INFO(listed(serving.diagnostics));
    CHECK_FALSE(serving.config);
    REQUIRE(serving.diagnostics.size() == 1);
    const auto& error = serving.diagnostics.front();
    CHECK(error.line == line);
    CHECK(error.column == column);
    CHECK_THAT(error.message, Catch::Contains(std::string("the environment variable ") + kUnsetVariable +
                                              " is not set, so AUTH cannot be sent"));
    CHECK_THAT(error.message, !Catch::StartsWith("warning"));
}

TEST_CASE("redis config: a redis section no global limit uses is a warning") {
    const auto none = load(kRedis, "");
    INFO(listed(none.diagnostics));
    REQUIRE(none.config);
    REQUIRE(none.config->redis);  // still loaded
    REQUIRE(none.warnings.size() == 1);
    const auto& warning = none.warnings.front();
    INFO(listed(none.warnings));
    CHECK(warning.line == 2);  // at the section's mapping, its first key
    CHECK(warning.column == 3);
    CHECK_THAT(warning.message, Catch::Contains("redis is configured but no route has a rate_limit "
                                                "with scope: global; nothing will use it"));

    const auto local = load(kRedis, "    rate_limit: {requests_per_second: 50, scope: local}\n");
    INFO(listed(local.diagnostics));
    REQUIRE(local.config);
    REQUIRE(local.warnings.size() == 1);
    CHECK_THAT(local.warnings.front().message, Catch::Contains("nothing will use it"));

    const auto used = load(kRedis, kGlobal);
    REQUIRE(used.config);
    CHECK(used.warnings.empty());
}
