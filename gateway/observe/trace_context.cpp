#include "observe/trace_context.hpp"

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

namespace gateway {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::size_t kMaxMembers = 32;      // W3C tracestate: list-members at most
constexpr std::size_t kMaxTracestate = 512;  // and the bytes a vendor must pass on

bool lower_hex(std::string_view text) {
    for (const char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

bool all_zero(std::string_view text) { return text.find_first_not_of('0') == std::string_view::npos; }

std::uint8_t hex_byte(std::string_view two) {
    const auto digit = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    return static_cast<std::uint8_t>(digit(two[0]) * 16 + digit(two[1]));
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

/// A tracestate key: `lcalpha 0*255(lcalpha / DIGIT / "_" / "-"/ "*" / "/")`, or a multi-tenant
/// `tenant@system` (the tenant may start with a digit; the system at most 14 characters).
bool valid_key(std::string_view key) {
    if (key.empty() || key.size() > 256) return false;
    const auto allowed = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '*' || c == '/';
    };
    const auto at = key.find('@');
    if (at == std::string_view::npos) {
        if (!(key.front() >= 'a' && key.front() <= 'z')) return false;
        for (const char c : key) if (!allowed(c)) return false;
        return true;
    }
    const std::string_view tenant = key.substr(0, at);
    const std::string_view system = key.substr(at + 1);
    if (tenant.empty() || tenant.size() > 241 || system.empty() || system.size() > 14) return false;
    if (!((tenant.front() >= 'a' && tenant.front() <= 'z') || (tenant.front() >= '0' && tenant.front() <= '9'))) return false;
    if (!(system.front() >= 'a' && system.front() <= 'z')) return false;
    for (const char c : tenant) if (!allowed(c)) return false;
    for (const char c : system) if (!allowed(c)) return false;
    return true;
}

/// A tracestate value: printable ASCII but ',' and '=', at most 256, not ending in a space.
bool valid_value(std::string_view value) {
    if (value.empty() || value.size() > 256 || value.back() == ' ') return false;
    for (const char c : value) {
        if (c < 0x20 || c > 0x7e || c == ',' || c == '=') return false;
    }
    return true;
}

}  // namespace

std::optional<TraceParent> parse_traceparent(std::string_view value) {
    // version "-" trace-id "-" parent-id "-" trace-flags
    if (value.size() < 55 || value[2] != '-' || value[35] != '-' || value[52] != '-') return std::nullopt;
    const std::string_view version = value.substr(0, 2);
    if (!lower_hex(version) || version == "ff") return std::nullopt;
    if (version == "00" ? value.size() != 55 : (value.size() > 55 && value[55] != '-')) return std::nullopt;
    TraceParent parent;
    parent.trace_id = value.substr(3, 32);
    parent.parent_id = value.substr(36, 16);
    const std::string_view flags = value.substr(53, 2);
    if (!lower_hex(parent.trace_id) || !lower_hex(parent.parent_id) || !lower_hex(flags)) return std::nullopt;
    if (all_zero(parent.trace_id) || all_zero(parent.parent_id)) return std::nullopt;
    parent.flags = hex_byte(flags);
    return parent;
}

std::string combine_tracestate(std::span<const std::string_view> values) {
    std::string out;
    std::size_t members = 0;
    std::vector<std::string_view> keys;
    for (const std::string_view value : values) {
        std::size_t start = 0;
        while (start <= value.size() && members < kMaxMembers) {
            const std::size_t comma = value.find(',', start);
            const std::string_view member =
                trim(value.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
            start = comma == std::string_view::npos ? value.size() + 1 : comma + 1;
            if (member.empty()) continue;
            const auto equals = member.find('=');
            if (equals == std::string_view::npos) continue;
            const std::string_view key = member.substr(0, equals);
            if (!valid_key(key) || !valid_value(member.substr(equals + 1))) continue;
            bool seen = false;
            for (const auto known : keys) seen = seen || known == key;
            if (seen) continue;  // a key once: the leftmost (the most recent) entry wins
            const std::size_t grown = out.size() + (out.empty() ? 0 : 1) + member.size();
            if (grown > kMaxTracestate) continue;  // a shorter one after it may still fit
            if (!out.empty()) out += ',';
            out.append(member);
            keys.push_back(key);
            ++members;
        }
    }
    return out;
}

std::string TraceContext::traceparent_with(std::string_view span) const {
    std::array<char, kTraceparentSize> text;
    write_traceparent(text, span);
    return std::string(text.data(), text.size());
}

void TraceContext::write_traceparent(std::array<char, kTraceparentSize>& out, std::string_view span) const {
    char* at = out.data();
    *at++ = '0';
    *at++ = '0';
    *at++ = '-';
    at = std::copy(trace_id.begin(), trace_id.end(), at);
    *at++ = '-';
    at = std::copy(span.begin(), span.begin() + std::min<std::size_t>(16, span.size()), at);
    *at++ = '-';
    *at++ = '0';
    *at = sampled ? '1' : '0';
}

TraceIdSource::TraceIdSource() {
    std::random_device random;
    state_ = (static_cast<std::uint64_t>(random()) << 32) ^ random();
}

std::uint64_t TraceIdSource::next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

namespace {

/// 32 random bits as 8 lower-case hex digits, branch-free: each nibble spread into a byte of
/// its own, then '0'..'9' or 'a'..'f' added in all eight lanes at once. (The digits come out in
/// an order of their own; for random bits any order is as random.)
void write_hex32(std::uint32_t bits, char* out) {
    std::uint64_t v = bits;
    v = (v | (v << 16)) & 0x0000FFFF0000FFFFULL;
    v = (v | (v << 8)) & 0x00FF00FF00FF00FFULL;
    v = (v | (v << 4)) & 0x0F0F0F0F0F0F0F0FULL;
    // Lanes holding 10..15 get 'a' - '0' - 10 = 39 more than the others.
    const std::uint64_t letters = ((v + 0x0606060606060606ULL) >> 4) & 0x0101010101010101ULL;
    v += 0x3030303030303030ULL + letters * 39;
    std::memcpy(out, &v, 8);
}

void write_hex(std::uint64_t bits, char* out) {
    write_hex32(static_cast<std::uint32_t>(bits >> 32), out);
    write_hex32(static_cast<std::uint32_t>(bits), out + 8);
}

}  // namespace

void TraceIdSource::fill_trace_id(std::array<char, 32>& out) {
    std::uint64_t high = 0, low = 0;
    while (high == 0 && low == 0) {  // an all-zero id is invalid
        high = next();
        low = next();
    }
    write_hex(high, out.data());
    write_hex(low, out.data() + 16);
}

void TraceIdSource::fill_span_id(std::array<char, 16>& out) {
    std::uint64_t bits = 0;
    while (bits == 0) bits = next();
    write_hex(bits, out.data());
}

double TraceIdSource::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

TraceContext begin_trace_context(std::span<const std::string_view> traceparents,
                                 std::span<const std::string_view> tracestates, TraceIdSource& ids,
                                 std::optional<TraceParent>& parent) {
    TraceContext context;
    context.parent_id.fill('0');
    if (traceparents.size() == 1) {
        parent = parse_traceparent(traceparents.front());
        if (!parent) context.replaced_because = "invalid traceparent";
    } else if (traceparents.size() > 1) {
        context.replaced_because = "more than one traceparent";
    }
    if (parent) {
        std::copy(parent->trace_id.begin(), parent->trace_id.end(), context.trace_id.begin());
        std::copy(parent->parent_id.begin(), parent->parent_id.end(), context.parent_id.begin());
        context.continued = true;
        // W3C 3.3.1: tracestate goes with the traceparent it came with, never with a new trace.
        context.tracestate = combine_tracestate(tracestates);
    } else {
        ids.fill_trace_id(context.trace_id);
    }
    ids.fill_span_id(context.span_id);
    return context;
}

}  // namespace gateway
