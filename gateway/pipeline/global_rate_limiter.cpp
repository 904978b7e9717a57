#include "pipeline/global_rate_limiter.hpp"

#include <openssl/evp.h>

#include <cmath>

#include "core/text.hpp"

namespace gateway {
namespace {

using Clock = std::chrono::steady_clock;

// KEYS[1]: the bucket. ARGV[1]: the microseconds one request costs; ARGV[2]: how far (µs) the
// bucket's theoretical arrival time may run ahead of now, (burst - 1) requests' worth.
// Answers {allowed (0|1), whole tokens left, µs until the next request may pass}.
// Lua's numbers are doubles: microseconds since 1970 (~2^51) are exact in them.
constexpr std::string_view kScript = R"lua(
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local ahead = tat - now
if ahead > tolerance then
  return {0, 0, ahead - tolerance}
end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', math.floor((next_tat - now) / 1000) + 1)
local wait = ahead + interval - tolerance
if wait < 0 then wait = 0 end
return {1, math.floor((tolerance - ahead) / interval), wait}
)lua";

std::string sha1_hex(std::string_view text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha1(), nullptr);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < size; ++i) {
        hex += kHex[digest[i] >> 4];
        hex += kHex[digest[i] & 0xf];
    }
    return hex;
}

/// The limit's two GCRA constants in whole microseconds (at least 1 per request), as the
/// script's last two arguments.
std::string encode_arguments(const RateLimit& limit) {
    const double us = limit.requests_per_second > 0 ? 1e6 / limit.requests_per_second : 1e15;
    const auto interval = std::max<long long>(1, std::llround(std::min(us, 1e15)));
    const auto extra = static_cast<long long>(limit.burst > 0 ? limit.burst - 1 : 0);
    std::string encoded;
    append_resp_bulk(encoded, std::to_string(interval));
    append_resp_bulk(encoded, std::to_string(interval * extra));
    return encoded;
}

/// EVALSHA <sha> 1 (or EVAL <script> 1): what every decision's command starts with; the key
/// and the limit's arguments follow.
std::string encode_head(std::string_view verb, std::string_view script) {
    std::string head = "*6\r\n";
    append_resp_bulk(head, verb);
    append_resp_bulk(head, script);
    append_resp_bulk(head, "1");
    return head;
}

void build_bucket_key(std::string& out, const RouteConfig& route, const RateLimit& limit,
                      std::string_view key) {
    out.assign("gateway:rl:{").append(route.name).append("}");
    switch (limit.key) {
        case RateLimit::Key::route: break;
        case RateLimit::Key::client_ip: out.append(":ip:").append(key); break;
        // A digest, stable across processes and builds: a header's value may be a secret.
        case RateLimit::Key::header: out.append(":h:").append(fnv1a64_hex(key)); break;
    }
}

GlobalRateDecision fell_back(RateFallback reason) {
    GlobalRateDecision fallback;
    fallback.verdict = RateVerdict::fallback;
    fallback.reason = reason;
    return fallback;
}

/// The script's answer as a decision; nothing when it is not the three integers it returns.
std::optional<RateDecision> read_answer(const RespReply& reply) {
    if (reply.type != RespReply::Type::array || reply.elements.size() != 3) return std::nullopt;
    for (const auto& element : reply.elements) {
        if (element.type != RespReply::Type::integer || element.integer < 0) return std::nullopt;
    }
    RateDecision decision;
    decision.allowed = reply.elements[0].integer == 1;
    decision.remaining = static_cast<std::size_t>(reply.elements[1].integer);
    decision.retry_after = std::chrono::milliseconds((reply.elements[2].integer + 999) / 1000);
    if (!decision.allowed && decision.retry_after.count() == 0) decision.retry_after = std::chrono::milliseconds(1);
    return decision;
}

}  // namespace

std::string_view gcra_script() { return kScript; }

const std::string& gcra_script_sha1() {
    static const std::string sha = sha1_hex(kScript);
    return sha;
}

GlobalRateLimiter::GlobalRateLimiter(const Executor& executor, RedisHealth& health)
    : executor_(executor), health_(health) {}

const std::string& GlobalRateLimiter::arguments_of(const RateLimit& limit) {
    for (const auto& encoded : encoded_) {
        if (encoded.limit == &limit) return encoded.arguments;
    }
    scratch_ = encode_arguments(limit);
    return scratch_;
}

void GlobalRateLimiter::apply(const Config& config) {
    encoded_.clear();
    for (const auto& route : config.routes) {
        if (route.rate_limit && route.rate_limit->scope == RateLimit::Scope::global) {
            encoded_.push_back({&*route.rate_limit, encode_arguments(*route.rate_limit)});
        }
    }
    if (!config.redis) {
        client_.reset();
        return;
    }
    if (client_ && client_->config() == *config.redis) return;
    client_ = std::make_shared<RedisClient>(executor_, config.redis);
}

Task<GlobalRateDecision> GlobalRateLimiter::decide(const RouteConfig& route, const RateLimit& limit,
                                                   std::string_view key) {
    const std::shared_ptr<RedisClient> client = client_;
    if (!client) co_return fell_back(RateFallback::unavailable);
    const auto now = Clock::now();
    if (!health_.should_ask(now)) co_return fell_back(RateFallback::breaker_open);
    const auto deadline = now + client->config().timeout;
    // Encoded here, in one buffer: the command's fixed head, the key, the limit's arguments.
    static const std::string evalsha_head = encode_head("EVALSHA", gcra_script_sha1());
    build_bucket_key(bucket_, route, limit, key);
    const std::uint16_t slot = client->config().cluster ? redis_key_slot(bucket_) : 0;
    const std::string& arguments = arguments_of(limit);
    std::string command;
    command.reserve(evalsha_head.size() + bucket_.size() + arguments.size() + 16);
    command.append(evalsha_head);
    append_resp_bulk(command, bucket_);
    command.append(arguments);
    RedisClient::Result result = co_await client->run(slot, std::move(command), deadline);
    if (result.outcome == RedisClient::Outcome::reply && result.reply.is_error() &&
        result.reply.error_code() == "NOSCRIPT") {
        // Redis restarted, failed over or had SCRIPT FLUSH: EVAL sends the script and caches it
        // for the EVALSHAs after it.
        static const std::string eval_head = encode_head("EVAL", kScript);
        build_bucket_key(bucket_, route, limit, key);  // bucket_ served others meanwhile
        std::string eval = eval_head;
        append_resp_bulk(eval, bucket_);
        eval.append(arguments_of(limit));
        result = co_await client->run(slot, std::move(eval), deadline);
    }
    switch (result.outcome) {
        case RedisClient::Outcome::timeout:
            health_.record_failure(Clock::now(), result.detail);
            co_return fell_back(RateFallback::timeout);
        case RedisClient::Outcome::unavailable:
            health_.record_failure(Clock::now(), result.detail);
            co_return fell_back(RateFallback::unavailable);
        case RedisClient::Outcome::reply: break;
    }
    const auto decision = read_answer(result.reply);
    if (!decision) {
        health_.record_failure(Clock::now(), result.reply.is_error()
                                                 ? "Redis answered: " + result.reply.text
                                                 : std::string("Redis answered something else "
                                                               "than the script's three numbers"));
        co_return fell_back(RateFallback::error);
    }
    health_.record_success();
    GlobalRateDecision answered;
    answered.verdict = decision->allowed ? RateVerdict::allowed : RateVerdict::denied;
    answered.decision = *decision;
    co_return answered;
}

}  // namespace gateway
