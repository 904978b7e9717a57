#include "pipeline/rate_limiter.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <iterator>
#include <limits>
#include <list>
#include <mutex>
#include <thread>

namespace gateway {
namespace {

using Nanos = std::int64_t;

// A bucket never seen, or refilled: any arrival time at or before now means full, and this one
// is before every now.
constexpr Nanos kFull = std::numeric_limits<Nanos>::min();

// One token per 36 years at the slowest: the clamp that keeps now + interval + tolerance inside
// 64 bits for any rate and burst the config accepts (steady_clock counts from boot).
constexpr Nanos kMaxSpan = Nanos{1} << 60;

// Tables this small keep one exact LRU; larger ones are split so workers rarely meet on a mutex,
// each shard still holding enough keys that evicting by shard is close to evicting globally.
constexpr std::size_t kMaxShards = 16;
constexpr std::size_t kMinKeysPerShard = 256;

// The largest sf-integer (RFC 8941 allows 15 digits).
constexpr std::uint64_t kMaxSfInteger = 999'999'999'999'999;

// GCRA's two constants: a request costs `interval` of arrival time, and may run up to
// `tolerance` ahead of now, which is the burst less the request itself.
struct Gcra {
    Nanos interval;
    Nanos tolerance;
};

Gcra gcra_of(const RateLimit& limit) {
    // Rounding the interval to the nearest nanosecond errs by under half a nanosecond a token:
    // at 3 requests a second it takes some 30 years of saturation to win one extra request.
    const double ns = limit.requests_per_second > 0 ? 1e9 / limit.requests_per_second
                                                    : static_cast<double>(kMaxSpan);
    const Nanos interval = ns >= static_cast<double>(kMaxSpan)
                               ? kMaxSpan
                               : std::max<Nanos>(1, static_cast<Nanos>(std::llround(ns)));
    if (limit.burst == 0) return {interval, -interval};  // nothing ever fits
    const std::uint64_t extra = limit.burst - 1;
    const Nanos tolerance = extra > static_cast<std::uint64_t>(kMaxSpan / interval)
                                ? kMaxSpan
                                : static_cast<Nanos>(extra) * interval;
    return {interval, tolerance};
}

Nanos nanos(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// Up, so that a client that waits exactly this long finds its token back.
std::chrono::milliseconds ceil_ms(Nanos ns) {
    return std::chrono::milliseconds{(ns + 999'999) / 1'000'000};
}

struct Step {
    RateDecision decision;
    Nanos tat;  // the bucket's arrival time after this request
};

Step step(Nanos tat, Nanos now, Gcra gcra) {
    const Nanos base = std::max(tat, now);
    const Nanos ahead = base - now;
    if (ahead > gcra.tolerance) return {{false, 0, ceil_ms(ahead - gcra.tolerance)}, tat};
    const Nanos after = ahead + gcra.interval;
    const auto remaining = static_cast<std::size_t>((gcra.tolerance - ahead) / gcra.interval);
    const Nanos wait = after > gcra.tolerance ? after - gcra.tolerance : 0;
    return {{true, remaining, ceil_ms(wait)}, base + gcra.interval};
}

struct Bucket {
    std::string key;
    std::size_t hash;
    Nanos tat;
};

// The index holds views of the keys in the LRU list's nodes (which never move), with the hash
// computed once per request for both the shard and the index: a hit neither allocates nor hashes
// twice.
struct HashedKey {
    std::string_view text;
    std::size_t hash;
    bool operator==(const HashedKey&) const = default;
};

struct StoredHash {
    std::size_t operator()(const HashedKey& key) const noexcept { return key.hash; }
};

// A lock for critical sections of a few dozen instructions (a hash lookup and a list splice):
// cheaper than a mutex's calls into pthread when free, which it nearly always is, and yielding
// when a holder was preempted rather than burning its time slice.
class SpinLock {
public:
    void lock() noexcept {
        int spins = 0;
        while (locked_.exchange(true, std::memory_order_acquire)) {
            while (locked_.load(std::memory_order_relaxed)) {
                if (++spins > 64) std::this_thread::yield();
            }
        }
    }
    void unlock() noexcept { locked_.store(false, std::memory_order_release); }

private:
    std::atomic<bool> locked_{false};
};

// Its own cache line: workers on different shards do not bounce each other's lock.
struct alignas(64) Shard {
    mutable SpinLock lock;
    std::list<Bucket> lru;  // most recently used first
    std::unordered_map<HashedKey, std::list<Bucket>::iterator, StoredHash> index;
    std::size_t capacity = 1;

    // The bucket of `key`, made the most recently used; a new one (full) when there is none, in
    // the least recently used one's place once the shard is at capacity, reusing its list and
    // index nodes so that a flood of new keys costs no allocation either.
    Bucket& find_or_add(std::string_view key, std::size_t hash) {
        // A sidecar mostly hears from a few clients, often the same one twice in a row: the
        // last bucket found answers without the index.
        // (It is always the front of the list: each find makes its bucket the front.)
        if (!lru.empty() && lru.front().hash == hash && lru.front().key == key) return lru.front();
        return find_or_add_indexed(key, hash);
    }

    Bucket& find_or_add_indexed(std::string_view key, std::size_t hash) {
        if (const auto found = index.find(HashedKey{key, hash}); found != index.end()) {
            // A key that comes again and again (one busy client) is already at the front.
            if (found->second != lru.begin()) lru.splice(lru.begin(), lru, found->second);
            return *found->second;
        }
        if (index.size() < capacity) {
            lru.push_front(Bucket{std::string(key), hash, kFull});
            index.emplace(HashedKey{lru.front().key, hash}, lru.begin());
            return lru.front();
        }
        const auto victim = std::prev(lru.end());
        auto node = index.extract(HashedKey{victim->key, victim->hash});
        victim->key.assign(key);
        victim->hash = hash;
        victim->tat = kFull;
        lru.splice(lru.begin(), lru, victim);
        node.key() = HashedKey{victim->key, hash};
        node.mapped() = victim;
        index.insert(std::move(node));
        return *victim;
    }
};

bool same_limit(const RateLimit& a, const RateLimit& b) {
    return a.requests_per_second == b.requests_per_second && a.burst == b.burst && a.key == b.key &&
           a.header_name == b.header_name && a.max_keys == b.max_keys;
}

void append_sf_string(std::string& out, std::string_view text) {
    out += '"';
    for (const char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c >= 0x20 && c <= 0x7e) {
            out += c;
        }
        // Anything else an sf-string cannot hold; dropping it keeps the field parseable.
    }
    out += '"';
}

std::uint64_t ceil_seconds(std::chrono::milliseconds ms) {
    const auto count = std::max<std::int64_t>(0, ms.count());
    return std::min<std::uint64_t>(kMaxSfInteger, static_cast<std::uint64_t>((count + 999) / 1000));
}

}  // namespace

// A route's buckets. The limit it was made for is what retain() compares; decide() goes by the
// limit of the snapshot its request holds, so a request on either side of a reload is judged by
// its own config, against the same buckets until retain() resets them.
struct RateLimiter::Table {
    explicit Table(const RateLimit& made_for) : limit(made_for) {
        const std::size_t keys = std::max<std::size_t>(1, limit.max_keys);
        shard_count = std::clamp<std::size_t>(keys / kMinKeysPerShard, 1, kMaxShards);
        shards = std::make_unique<Shard[]>(shard_count);
        for (std::size_t i = 0; i < shard_count; ++i) {
            // Split exactly, so the shards together never hold more than max_keys.
            shards[i].capacity = keys / shard_count + (i < keys % shard_count ? 1 : 0);
        }
    }

    RateDecision decide(const RateLimit& current, std::string_view key, Nanos now, Gcra gcra) {
        if (current.key == RateLimit::Key::route) {
            // One bucket, one number: a compare-and-swap, no lock and no hashing.
            Nanos tat = route_tat.load(std::memory_order_relaxed);
            for (;;) {
                const Step next = step(tat, now, gcra);
                if (!next.decision.allowed) return next.decision;
                if (route_tat.compare_exchange_weak(tat, next.tat, std::memory_order_relaxed)) {
                    return next.decision;
                }
            }
        }
        const std::size_t hash = std::hash<std::string_view>{}(key);
        // The high bits pick the shard; the index uses the hash modulo its bucket count.
        Shard& shard = shards[(hash >> 32) % shard_count];
        const std::lock_guard lock(shard.lock);
        Bucket& bucket = shard.find_or_add(key, hash);
        const Step next = step(bucket.tat, now, gcra);
        bucket.tat = next.tat;
        return next.decision;
    }

    std::size_t size() const {
        std::size_t count = route_tat.load(std::memory_order_relaxed) != kFull ? 1 : 0;
        for (std::size_t i = 0; i < shard_count; ++i) {
            const std::lock_guard lock(shards[i].lock);
            count += shards[i].index.size();
        }
        return count;
    }

    RateLimit limit;
    alignas(64) std::atomic<Nanos> route_tat{kFull};  // Key::route's bucket
    std::size_t shard_count = 1;
    std::unique_ptr<Shard[]> shards;
};

RateLimiter::RateLimiter() = default;
RateLimiter::~RateLimiter() = default;

RateDecision RateLimiter::decide(std::string_view route, const RateLimit& limit,
                                 std::string_view key, std::chrono::steady_clock::time_point now) {
    const Nanos at = nanos(now);
    {
        const std::shared_lock lock(mutex_);
        if (const auto found = tables_.find(route); found != tables_.end()) {
            return found->second->decide(limit, key, at, gcra_of(limit));
        }
    }
    // A route's first request (its config was not retained yet): the only exclusive lock a
    // request ever takes, once per route.
    const std::unique_lock lock(mutex_);
    auto found = tables_.find(route);
    if (found == tables_.end()) {
        found = tables_.emplace(std::string(route), std::make_shared<Table>(limit)).first;
    }
    return found->second->decide(limit, key, at, gcra_of(limit));
}

RateDecision RateLimiter::decide(WorkerView& view, std::string_view route, const RateLimit& limit,
                                 std::string_view key, std::chrono::steady_clock::time_point now) {
    const auto generation = generation_.load(std::memory_order_acquire);
    if (view.generation_ != generation) {
        // Once per reload and worker: the shared lock, and copies of the tables' pointers.
        const std::shared_lock lock(mutex_);
        view.entries_.clear();
        for (const auto& [address, table] : by_limit_) {
            const Gcra gcra = gcra_of(*address);
            view.entries_.push_back({address, table, gcra.interval, gcra.tolerance});
        }
        view.generation_ = generation_.load(std::memory_order_relaxed);
    }
    // The config in force finds its table by the limit's address: no lock, no hashing of the
    // route's name. A request of an older snapshot goes by the name.
    for (const auto& entry : view.entries_) {
        if (entry.limit == &limit) {
            return entry.table->decide(limit, key, nanos(now), Gcra{entry.interval, entry.tolerance});
        }
    }
    return decide(route, limit, key, now);
}

void RateLimiter::retain(const std::vector<RouteConfig>& routes) {
    std::unordered_map<std::string_view, const RateLimit*> limited;
    for (const auto& route : routes) {
        if (route.rate_limit) limited.emplace(route.name, &*route.rate_limit);
    }
    const std::unique_lock lock(mutex_);
    for (auto it = tables_.begin(); it != tables_.end();) {
        const auto wanted = limited.find(it->first);
        if (wanted == limited.end()) {
            it = tables_.erase(it);
            continue;
        }
        if (!same_limit(it->second->limit, *wanted->second)) {
            it->second = std::make_shared<Table>(*wanted->second);
        }
        ++it;
    }
    // Made now rather than by their first request, which would take the exclusive lock.
    for (const auto& [name, limit] : limited) {
        if (!tables_.contains(name))
            tables_.emplace(std::string(name), std::make_shared<Table>(*limit));
    }
    // Only the addresses of the routes just retained: they stay valid while their config does,
    // and a config freed since cannot alias them (it was retained before this one was made).
    by_limit_.clear();
    for (const auto& [name, limit] : limited) by_limit_.emplace_back(limit, tables_.find(name)->second);
    generation_.fetch_add(1, std::memory_order_release);
}

std::size_t RateLimiter::keys(std::string_view route) const {
    const std::shared_lock lock(mutex_);
    const auto found = tables_.find(route);
    return found == tables_.end() ? 0 : found->second->size();
}

std::string rate_limit_policy_header(std::string_view policy_name, const RateLimit& limit) {
    // The window is the time an empty bucket takes to fill: what a client may spend `q` in. A
    // nanosecond's slack keeps the double's 21 / 0.7 = 30.000000000000004 from saying 31.
    double window = limit.requests_per_second > 0
                        ? static_cast<double>(limit.burst) / limit.requests_per_second
                        : static_cast<double>(kMaxSfInteger);
    window = std::ceil(window - 1e-9);
    const auto w = window >= static_cast<double>(kMaxSfInteger)
                       ? kMaxSfInteger
                       : std::max<std::uint64_t>(1, static_cast<std::uint64_t>(window));
    std::string out;
    append_sf_string(out, policy_name);
    out.append(";q=").append(std::to_string(std::min<std::uint64_t>(limit.burst, kMaxSfInteger)));
    out.append(";w=").append(std::to_string(w));
    return out;
}

std::string rate_limit_header(std::string_view policy_name, const RateDecision& decision) {
    const std::uint64_t t =
        decision.remaining > 0 ? 0 : std::max<std::uint64_t>(1, ceil_seconds(decision.retry_after));
    std::string out;
    append_sf_string(out, policy_name);
    out.append(";r=").append(
        std::to_string(std::min<std::uint64_t>(decision.remaining, kMaxSfInteger)));
    out.append(";t=").append(std::to_string(t));
    return out;
}

std::chrono::seconds retry_after_seconds(const RateDecision& decision) {
    return std::chrono::seconds{std::max<std::uint64_t>(1, ceil_seconds(decision.retry_after))};
}

namespace {

std::string rate_text(double requests_per_second) {
    if (requests_per_second == std::floor(requests_per_second)) {
        return std::to_string(static_cast<long long>(requests_per_second));
    }
    std::string text = std::to_string(requests_per_second);
    text.erase(text.find_last_not_of('0') + 1);
    return text;
}

/// Whose bucket it was, without echoing the key's value (a header may carry a secret).
std::string per_key(const RateLimit& limit) {
    switch (limit.key) {
        case RateLimit::Key::client_ip: return " per client address";
        case RateLimit::Key::header: return " per value of header " + limit.header_name;
        case RateLimit::Key::route: break;
    }
    return "";
}

}  // namespace

Error rate_limited_error(const RouteConfig& route, const RateLimit& limit, const RateDecision& decision) {
    const auto retry_after = retry_after_seconds(decision);
    Error error{Errc::rate_limited,
                "route " + route.name + " allows " + rate_text(limit.requests_per_second) +
                    " request(s) a second" + per_key(limit) +
                    (limit.scope == RateLimit::Scope::global ? " across all gateway replicas" : "") +
                    " (bursts of up to " + std::to_string(limit.burst) + "); retry after " +
                    std::to_string(retry_after.count()) + " s"};
    error.headers.emplace_back("Retry-After", std::to_string(retry_after.count()));
    error.headers.emplace_back("RateLimit-Policy", rate_limit_policy_header(route.name, limit));
    error.headers.emplace_back("RateLimit", rate_limit_header(route.name, decision));
    return error;
}

Error rate_limit_unavailable_error(const RouteConfig& route, std::string_view why) {
    Error error{Errc::rate_limit_unavailable,
                "route " + route.name + " has a rate limit shared by all gateway replicas, and "
                "its counter store could not be asked (" + std::string(why) +
                "); the route refuses what it cannot count (on_redis_error: deny); retry after 1 s"};
    error.headers.emplace_back("Retry-After", "1");
    return error;
}

}  // namespace gateway
