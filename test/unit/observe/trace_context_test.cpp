#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "observe/trace_context.hpp"

using namespace gateway;

namespace {

// The W3C spec's example (https://www.w3.org/TR/trace-context/#examples-of-http-traceparent-headers).
constexpr std::string_view kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kParentId = "00f067aa0ba902b7";
const std::string kExample = "00-" + std::string(kTraceId) + "-" + std::string(kParentId) + "-01";

std::string traceparent_of(std::string_view version, std::string_view trace_id, std::string_view parent_id,
                           std::string_view flags) {
    return std::string(version) + "-" + std::string(trace_id) + "-" + std::string(parent_id) + "-" +
           std::string(flags);
}

bool is_lower_hex(std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool is_all_zero(std::string_view text) { return text.find_first_not_of('0') == std::string_view::npos; }

std::string combined(std::vector<std::string_view> values) {
    return combine_tracestate(std::span<const std::string_view>(values.data(), values.size()));
}

/// `count` members "kN=vN", N from `first`, joined with commas.
std::string members(int first, int count) {
    std::string out;
    for (int i = first; i < first + count; ++i) {
        if (!out.empty()) out += ',';
        const std::string n = std::to_string(i);
        out.append("k").append(n).append("=v").append(n);
    }
    return out;
}

std::size_t member_count(std::string_view list) {
    return list.empty() ? 0 : static_cast<std::size_t>(std::count(list.begin(), list.end(), ',')) + 1;
}

/// make_trace_context with the given headers; `asked` records what decide_sampled was given.
TraceContext context_of(std::vector<std::string_view> traceparents, std::vector<std::string_view> tracestates,
                        TraceIdSource& ids, std::optional<std::optional<bool>>* asked = nullptr,
                        bool sample_new = false) {
    return make_trace_context(std::span<const std::string_view>(traceparents.data(), traceparents.size()),
                              std::span<const std::string_view>(tracestates.data(), tracestates.size()), ids,
                              [&](std::optional<bool> parent_sampled) {
                                  if (asked) *asked = parent_sampled;
                                  return parent_sampled.value_or(sample_new);
                              });
}

std::string text(const std::array<char, 32>& id) { return {id.data(), id.size()}; }
std::string text(const std::array<char, 16>& id) { return {id.data(), id.size()}; }

// SplitMix64's increment: a seed of minus it makes the very first draw zero.
constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

}  // namespace

// --- parse_traceparent ------------------------------------------------------------------------

TEST_CASE("traceparent: the spec's example is valid, with its fields and the sampled flag") {
    REQUIRE(kExample.size() == 55);
    const auto parsed = parse_traceparent(kExample);
    REQUIRE(parsed);
    CHECK(parsed->trace_id == kTraceId);
    CHECK(parsed->parent_id == kParentId);
    CHECK(parsed->flags == 0x01);
    CHECK(parsed->sampled());
    // The fields view the header's value, no copy.
    CHECK(parsed->trace_id.data() == kExample.data() + 3);
    CHECK(parsed->parent_id.data() == kExample.data() + 36);
}

TEST_CASE("traceparent: flags 00 is valid and not sampled, other flag bits are kept but only bit 0 samples") {
    const auto unsampled = parse_traceparent(traceparent_of("00", kTraceId, kParentId, "00"));
    REQUIRE(unsampled);
    CHECK(unsampled->flags == 0x00);
    CHECK_FALSE(unsampled->sampled());

    const auto two = parse_traceparent(traceparent_of("00", kTraceId, kParentId, "02"));
    REQUIRE(two);
    CHECK(two->flags == 0x02);
    CHECK_FALSE(two->sampled());

    const auto all = parse_traceparent(traceparent_of("00", kTraceId, kParentId, "ff"));
    REQUIRE(all);
    CHECK(all->flags == 0xff);
    CHECK(all->sampled());

    const auto three = parse_traceparent(traceparent_of("00", kTraceId, kParentId, "03"));
    REQUIRE(three);
    CHECK(three->sampled());
}

TEST_CASE("traceparent: version 00 is exactly 55 characters") {
    CHECK_FALSE(parse_traceparent(kExample.substr(0, 54)));  // flags of one digit
    CHECK_FALSE(parse_traceparent(kExample + "0"));          // flags of three digits
    CHECK_FALSE(parse_traceparent(kExample + "-"));          // a version-00 value does not go on
    CHECK_FALSE(parse_traceparent(kExample + "-extra"));
    // A trace id or parent id one digit short or long (the total length off by one as well).
    CHECK_FALSE(parse_traceparent(traceparent_of("00", kTraceId.substr(1), kParentId, "01")));
    CHECK_FALSE(parse_traceparent(traceparent_of("00", std::string(kTraceId) + "a", kParentId, "01")));
    CHECK_FALSE(parse_traceparent(traceparent_of("00", kTraceId, kParentId.substr(1), "01")));
    CHECK_FALSE(parse_traceparent(traceparent_of("00", kTraceId, std::string(kParentId) + "a", "01")));
    // A trace id one short with a parent id one long: 55 characters, the dashes misplaced.
    CHECK_FALSE(parse_traceparent(traceparent_of("00", kTraceId.substr(1), std::string(kParentId) + "a", "01")));
}

TEST_CASE("traceparent: upper-case hex is invalid in every field") {
    CHECK_FALSE(parse_traceparent(traceparent_of("0A", kTraceId, kParentId, "01")));
    CHECK_FALSE(parse_traceparent(traceparent_of("00", "4BF92F3577B34DA6A3CE929D0E0E4736", kParentId, "01")));
    CHECK_FALSE(parse_traceparent(traceparent_of("00", "4bf92f3577b34da6a3ce929d0e0e473F", kParentId, "01")));
    CHECK_FALSE(parse_traceparent(traceparent_of("00", kTraceId, "00F067AA0BA902B7", "01")));
    CHECK_FALSE(parse_traceparent(traceparent_of("00", kTraceId, "00f067aa0ba902bB", "01")));
    CHECK_FALSE(parse_traceparent(traceparent_of("00", kTraceId, kParentId, "0A")));
    // The same values in lower case are fine ("0a" being a future version).
    CHECK(parse_traceparent(traceparent_of("0a", kTraceId, kParentId, "01")));
    CHECK(parse_traceparent(traceparent_of("00", kTraceId, kParentId, "0a")));
}

TEST_CASE("traceparent: all-zero ids are invalid") {
    CHECK_FALSE(parse_traceparent(traceparent_of("00", std::string(32, '0'), kParentId, "01")));
    CHECK_FALSE(parse_traceparent(traceparent_of("00", kTraceId, std::string(16, '0'), "01")));
    CHECK_FALSE(parse_traceparent(traceparent_of("00", std::string(32, '0'), std::string(16, '0'), "00")));
    // A single non-zero digit anywhere is enough.
    CHECK(parse_traceparent(traceparent_of("00", std::string(31, '0') + "1", kParentId, "01")));
    CHECK(parse_traceparent(traceparent_of("00", kTraceId, "1" + std::string(15, '0'), "01")));
}

TEST_CASE("traceparent: version ff and non-hex versions are invalid") {
    CHECK_FALSE(parse_traceparent(traceparent_of("ff", kTraceId, kParentId, "01")));
    CHECK_FALSE(parse_traceparent(traceparent_of("ff", kTraceId, kParentId, "01") + "-extra"));
    CHECK_FALSE(parse_traceparent(traceparent_of("0g", kTraceId, kParentId, "01")));
    CHECK_FALSE(parse_traceparent(traceparent_of("g0", kTraceId, kParentId, "01")));
    CHECK_FALSE(parse_traceparent(traceparent_of("-0", kTraceId, kParentId, "01")));
    CHECK(parse_traceparent(traceparent_of("fe", kTraceId, kParentId, "01")));
}

TEST_CASE("traceparent: a future version has at least version 00's fields, and a dash after them if it goes on") {
    const std::string future = traceparent_of("01", kTraceId, kParentId, "01");
    REQUIRE(future.size() == 55);
    const auto exact = parse_traceparent(future);
    REQUIRE(exact);
    CHECK(exact->trace_id == kTraceId);
    CHECK(exact->parent_id == kParentId);
    CHECK(exact->sampled());

    const std::string extra = future + "-extra";  // the fields view it: it must outlive them
    const auto longer = parse_traceparent(extra);
    REQUIRE(longer);
    CHECK(longer->trace_id == kTraceId);
    CHECK(longer->parent_id == kParentId);
    CHECK(longer->flags == 0x01);
    // The spec's own test suite: "cc-...-01-what-the-future-will-be-like".
    CHECK(parse_traceparent(traceparent_of("cc", kTraceId, kParentId, "00") + "-what-the-future-will-be-like"));
    CHECK(parse_traceparent(future + "-"));

    CHECK_FALSE(parse_traceparent(future + "x"));   // character 55 must be '-'
    CHECK_FALSE(parse_traceparent(future + "0"));   // flags are two digits in every version
    CHECK_FALSE(parse_traceparent(future.substr(0, 54)));
    // The known fields stay strict in a later version.
    CHECK_FALSE(parse_traceparent(traceparent_of("01", std::string(32, '0'), kParentId, "01") + "-x"));
    CHECK_FALSE(parse_traceparent(traceparent_of("01", kTraceId, "00F067AA0BA902B7", "01") + "-x"));
    CHECK_FALSE(parse_traceparent(traceparent_of("01", kTraceId, kParentId, "0x") + "-x"));
}

TEST_CASE("traceparent: missing, extra or misplaced dashes are invalid") {
    std::string no_first = kExample;
    no_first[2] = '_';
    CHECK_FALSE(parse_traceparent(no_first));
    std::string no_second = kExample;
    no_second[35] = '_';
    CHECK_FALSE(parse_traceparent(no_second));
    std::string no_third = kExample;
    no_third[52] = '_';
    CHECK_FALSE(parse_traceparent(no_third));

    CHECK_FALSE(parse_traceparent("00" + std::string(kTraceId) + "-" + std::string(kParentId) + "-01"));
    CHECK_FALSE(parse_traceparent("00-" + std::string(kTraceId) + std::string(kParentId) + "-01"));
    CHECK_FALSE(parse_traceparent("00-" + std::string(kTraceId) + "-" + std::string(kParentId) + "01"));
    CHECK_FALSE(parse_traceparent("00--" + std::string(kTraceId) + "-" + std::string(kParentId) + "-01"));
    CHECK_FALSE(parse_traceparent("00-" + std::string(kTraceId) + "--" + std::string(kParentId) + "-01"));
    CHECK_FALSE(parse_traceparent("00-" + std::string(kTraceId) + "-" + std::string(kParentId) + "--01"));

    // A dash in place of a digit: the length and the separators right, the id not hex.
    std::string dash_in_trace = kExample;
    dash_in_trace[10] = '-';
    CHECK_FALSE(parse_traceparent(dash_in_trace));
    std::string dash_in_parent = kExample;
    dash_in_parent[40] = '-';
    CHECK_FALSE(parse_traceparent(dash_in_parent));
    std::string dash_in_flags = kExample;
    dash_in_flags[54] = '-';
    CHECK_FALSE(parse_traceparent(dash_in_flags));
}

TEST_CASE("traceparent: surrounding spaces, other characters and the empty string are invalid") {
    CHECK_FALSE(parse_traceparent(" " + kExample));
    CHECK_FALSE(parse_traceparent(kExample + " "));
    CHECK_FALSE(parse_traceparent("\t" + kExample));
    CHECK_FALSE(parse_traceparent(kExample + "\t"));
    CHECK_FALSE(parse_traceparent(" " + kExample.substr(0, 54)));  // 55 characters with the space
    CHECK_FALSE(parse_traceparent(traceparent_of("01", kTraceId, kParentId, "01") + " "));
    CHECK_FALSE(parse_traceparent(""));
    CHECK_FALSE(parse_traceparent("-"));
    CHECK_FALSE(parse_traceparent("00"));
    CHECK_FALSE(parse_traceparent(std::string(55, '-')));
    CHECK_FALSE(parse_traceparent(traceparent_of("00", "4bf92f3577b34da6a3ce929d0e0e473g", kParentId, "01")));
    CHECK_FALSE(parse_traceparent(traceparent_of("00", kTraceId, "00f067aa0ba902bz", "01")));
    CHECK_FALSE(parse_traceparent(traceparent_of("00", kTraceId, kParentId, "0z")));
    CHECK_FALSE(parse_traceparent(traceparent_of("00", kTraceId, kParentId, " 1")));
    CHECK_FALSE(parse_traceparent(std::string_view("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0\0", 55)));
}

// --- combine_tracestate -----------------------------------------------------------------------

TEST_CASE("tracestate: the header values are joined in order") {
    CHECK(combined({"congo=t61rcWkgMzE"}) == "congo=t61rcWkgMzE");
    CHECK(combined({"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"}) == "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    CHECK(combined({"rojo=00f067aa0ba902b7", "congo=t61rcWkgMzE", "a=1,b=2"}) ==
          "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,a=1,b=2");
    CHECK(combined({}).empty());
    CHECK(combined({""}).empty());
}

TEST_CASE("tracestate: spaces and tabs around members are trimmed, inside values kept") {
    CHECK(combined({" a=1 ,\tb=2\t", "  c=3  "}) == "a=1,b=2,c=3");
    CHECK(combined({"a=x y"}) == "a=x y");
    CHECK(combined({"a= leading"}) == "a= leading");  // a value may start with a space
    // A value's trailing spaces are optional whitespace after the member: trimmed, not fatal.
    CHECK(combined({"a=1   "}) == "a=1");
    // No whitespace around '=': the key would hold a space.
    CHECK(combined({"a =1,b=2"}) == "b=2");
}

TEST_CASE("tracestate: empty members and members without = are dropped") {
    CHECK(combined({"a=1,,b=2"}) == "a=1,b=2");
    CHECK(combined({",a=1,", " , ", "", "b=2"}) == "a=1,b=2");
    CHECK(combined({"a=1,junk,b=2"}) == "a=1,b=2");
    CHECK(combined({"junk"}).empty());
    CHECK(combined({"=1"}).empty());
    CHECK(combined({"a="}).empty());  // a value has at least one character
}

TEST_CASE("tracestate: invalid keys are dropped") {
    CHECK(combined({"Abc=1,b=2"}) == "b=2");
    CHECK(combined({"aBc=1,b=2"}) == "b=2");
    CHECK(combined({"1abc=1,b=2"}) == "b=2");  // a digit starts only a tenant id
    CHECK(combined({"_a=1,-a=2,*a=3,/a=4,b=2"}) == "b=2");
    CHECK(combined({"a.b=1,a:b=2,a b=3,b=2"}) == "b=2");
    CHECK(combined({"a0_-*/=1"}) == "a0_-*/=1");

    const std::string longest = "a" + std::string(255, 'b') + "=1";   // 256 characters
    const std::string too_long = "a" + std::string(256, 'b') + "=1";  // 257
    CHECK(combined({longest}) == longest);
    CHECK(combined({too_long, "b=2"}) == "b=2");
}

TEST_CASE("tracestate: multi-tenant keys tenant@system are valid") {
    CHECK(combined({"tenant@system=1"}) == "tenant@system=1");
    CHECK(combined({"fw529a3039@dt=-2"}) == "fw529a3039@dt=-2");
    CHECK(combined({"1tenant@sys=1"}) == "1tenant@sys=1");  // a tenant may start with a digit
    CHECK(combined({"t_-*/@s_-*/=1"}) == "t_-*/@s_-*/=1");

    CHECK(combined({"@sys=1,b=2"}) == "b=2");
    CHECK(combined({"tenant@=1,b=2"}) == "b=2");
    CHECK(combined({"tenant@1sys=1,b=2"}) == "b=2");   // the system starts with a letter
    CHECK(combined({"Tenant@sys=1,b=2"}) == "b=2");
    CHECK(combined({"tenant@Sys=1,b=2"}) == "b=2");
    CHECK(combined({"_tenant@sys=1,b=2"}) == "b=2");
    CHECK(combined({"a@b@c=1,b=2"}) == "b=2");

    const std::string system14 = "t@s" + std::string(13, 'y') + "=1";
    const std::string system15 = "t@s" + std::string(14, 'y') + "=1";
    CHECK(combined({system14}) == system14);
    CHECK(combined({system15, "b=2"}) == "b=2");
    const std::string tenant241 = std::string(241, 't') + "@s=1";
    const std::string tenant242 = std::string(242, 't') + "@s=1";
    CHECK(combined({tenant241}) == tenant241);
    CHECK(combined({tenant242, "b=2"}) == "b=2");
    const std::string longest = std::string(241, 't') + "@s" + std::string(13, 'y') + "=1";  // key of 256
    CHECK(combined({longest}) == longest);
}

TEST_CASE("tracestate: invalid values are dropped") {
    CHECK(combined({"a=b=c,b=2"}) == "b=2");
    // A comma ends the member: what follows is a member of its own (here one without '=').
    CHECK(combined({"a=x,y"}) == "a=x");
    CHECK(combined({std::string_view("a=\x01,b=2")}) == "b=2");
    CHECK(combined({std::string_view("a=x\x1f" "y,b=2")}) == "b=2");
    CHECK(combined({std::string_view("a=x\x7fy,b=2")}) == "b=2");
    CHECK(combined({std::string_view("a=caf\xc3\xa9,b=2")}) == "b=2");
    CHECK(combined({std::string_view("a=x\0y,b=2", 9)}) == "b=2");
    CHECK(combined({"a=~!\"#$%&'()*+-./:;<>?@[\\]^_`{|}"}) == "a=~!\"#$%&'()*+-./:;<>?@[\\]^_`{|}");

    const std::string value256 = "a=" + std::string(256, 'v');
    const std::string value257 = "a=" + std::string(257, 'v');
    CHECK(combined({value256}) == value256);
    CHECK(combined({value257, "b=2"}) == "b=2");
}

TEST_CASE("tracestate: a key comes once, its first (leftmost) entry kept") {
    CHECK(combined({"a=1,b=2,a=3"}) == "a=1,b=2");
    CHECK(combined({"a=1", "b=2", "a=3", "b=4,c=5"}) == "a=1,b=2,c=5");
    // An invalid first entry does not claim the key.
    CHECK(combined({"a=x=y,a=2"}) == "a=2");
    CHECK(combined({"t@s=1,t@s=2,t@r=3"}) == "t@s=1,t@r=3");
}

TEST_CASE("tracestate: at most 32 members, the first ones") {
    const std::string thirty_two = members(1, 32);
    CHECK(combined({thirty_two}) == thirty_two);
    const std::string thirty_three = members(1, 33);
    CHECK(combined({thirty_three}) == thirty_two);
    // Across header values as well.
    const std::string first = members(1, 20);
    const std::string second = members(21, 20);
    const std::string result = combined({first, second});
    CHECK(member_count(result) == 32);
    CHECK(result == thirty_two);
    // Dropped members do not count.
    const std::string with_junk = "Bad=1,,junk," + members(1, 33);
    CHECK(combined({with_junk}) == thirty_two);
    // Duplicates do not count either: k1=v1 is skipped and k32 still fits.
    CHECK(combined({"k1=x," + thirty_three}) == "k1=x," + members(2, 31));
}

TEST_CASE("tracestate: at most 512 bytes, a member that would cross them skipped and a later short one kept") {
    const std::string a = "a=" + std::string(250, 'x');  // 252 bytes
    const std::string b = "b=" + std::string(250, 'y');  // 252: 505 with the comma
    const std::string fits = a + "," + b;
    REQUIRE(fits.size() == 505);
    // 505 + 1 + 12 = 518: skipped; 505 + 1 + 7 = 513: skipped; 505 + 1 + 6 = 512: kept.
    const std::string result = combined({a, b, "c=1234567890", "d=12345", "e=1234", "f=1"});
    CHECK(result == fits + ",e=1234");
    CHECK(result.size() == 512);

    // Exactly 512 in one member is fine, nothing fits after it.
    const std::string full = "a=" + std::string(254, 'x') + "," + "b=" + std::string(253, 'y');
    REQUIRE(full.size() == 512);
    CHECK(combined({full, "c=1"}) == full);
    // A skipped member's key is not taken: a shorter entry with that key later can still fit.
    CHECK(combined({a, b, "c=" + std::string(100, 'z'), "c=12"}) == fits + ",c=12");
}

// --- TraceIdSource ----------------------------------------------------------------------------

TEST_CASE("trace ids: lower-case hex of 32 and 16 digits, never all zero, a new one every call") {
    TraceIdSource ids;
    std::set<std::string> traces, spans;
    for (int i = 0; i < 2000; ++i) {
        std::array<char, 32> trace{};
        std::array<char, 16> span{};
        ids.fill_trace_id(trace);
        ids.fill_span_id(span);
        const std::string trace_text = text(trace), span_text = text(span);
        INFO(trace_text << " " << span_text);
        CHECK(is_lower_hex(trace_text));
        CHECK(is_lower_hex(span_text));
        CHECK_FALSE(is_all_zero(trace_text));
        CHECK_FALSE(is_all_zero(span_text));
        traces.insert(trace_text);
        spans.insert(span_text);
    }
    CHECK(traces.size() == 2000);
    CHECK(spans.size() == 2000);
}

TEST_CASE("trace ids: two default sources differ, two with the same seed repeat") {
    TraceIdSource first, second;
    std::array<char, 32> a{}, b{};
    first.fill_trace_id(a);
    second.fill_trace_id(b);
    CHECK(text(a) != text(b));

    TraceIdSource seeded(42), again(42), other(43);
    for (int i = 0; i < 10; ++i) {
        std::array<char, 32> t1{}, t2{}, t3{};
        std::array<char, 16> s1{}, s2{}, s3{};
        seeded.fill_trace_id(t1);
        again.fill_trace_id(t2);
        other.fill_trace_id(t3);
        seeded.fill_span_id(s1);
        again.fill_span_id(s2);
        other.fill_span_id(s3);
        CHECK(text(t1) == text(t2));
        CHECK(text(s1) == text(s2));
        CHECK(text(t1) != text(t3));
        CHECK(text(s1) != text(s3));
        CHECK(seeded.uniform() == again.uniform());
    }
}

TEST_CASE("trace ids: SplitMix64 as documented, a zero draw never makes an all-zero id") {
    // SplitMix64 seeded with 0: the reference's first output is 0xe220a8397b1dcdaf. The hex
    // writer may put the digits of a draw in an order of its own (as trace_context.cpp says):
    // the same digits, whatever their order.
    const auto sorted = [](std::string digits) {
        std::sort(digits.begin(), digits.end());
        return digits;
    };
    TraceIdSource zero(0);
    std::array<char, 16> span{};
    zero.fill_span_id(span);
    CHECK(sorted(text(span)) == sorted("e220a8397b1dcdaf"));

    // Seeded with -golden the first draw is 0: the span id takes the next draw instead, the
    // one a source seeded with 0 draws first.
    TraceIdSource drawing_zero(0 - kGolden);
    std::array<char, 16> skipped{};
    drawing_zero.fill_span_id(skipped);
    CHECK(text(skipped) == text(span));

    // A trace id needs only one of its halves non-zero.
    TraceIdSource half_zero(0 - kGolden);
    std::array<char, 32> trace{};
    half_zero.fill_trace_id(trace);
    CHECK(text(trace) == std::string(16, '0') + text(span));

    // And uniform() may be exactly 0.
    TraceIdSource uniform_zero(0 - kGolden);
    CHECK(uniform_zero.uniform() == 0.0);
}

TEST_CASE("trace ids: uniform() draws from 0 included to 1 excluded") {
    TraceIdSource ids(2026);
    double sum = 0, low = 1, high = 0;
    constexpr int kDraws = 20000;
    for (int i = 0; i < kDraws; ++i) {
        const double draw = ids.uniform();
        REQUIRE(draw >= 0.0);
        REQUIRE(draw < 1.0);
        sum += draw;
        low = std::min(low, draw);
        high = std::max(high, draw);
    }
    CHECK(sum / kDraws == Approx(0.5).margin(0.02));
    CHECK(low < 0.01);
    CHECK(high > 0.99);
}

// --- make_trace_context -----------------------------------------------------------------------

TEST_CASE("trace context: one valid traceparent is continued, its tracestate kept") {
    TraceIdSource ids(1);
    std::optional<std::optional<bool>> asked;
    const auto context = context_of({kExample}, {"rojo=00f067aa0ba902b7", " congo=t61rcWkgMzE ,Bad=1"}, ids, &asked);
    CHECK(context.continued);
    CHECK(context.replaced_because.empty());
    CHECK(context.trace_id_text() == kTraceId);
    CHECK(context.parent_id_text() == kParentId);
    CHECK(context.span_id_text() != kParentId);
    CHECK(is_lower_hex(context.span_id_text()));
    CHECK_FALSE(is_all_zero(context.span_id_text()));
    CHECK(context.tracestate == "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    REQUIRE(asked);
    CHECK(*asked == std::optional<bool>(true));
    CHECK(context.sampled);

    // The span id is the source's next one: continuing a trace draws no trace id.
    TraceIdSource same(1);
    std::array<char, 16> expected{};
    same.fill_span_id(expected);
    CHECK(context.span_id_text() == text(expected));
}

TEST_CASE("trace context: the caller's sampled flag goes to decide_sampled, which has the last word") {
    TraceIdSource ids(2);
    std::optional<std::optional<bool>> asked;
    const auto unsampled = context_of({traceparent_of("00", kTraceId, kParentId, "00")}, {}, ids, &asked);
    CHECK(unsampled.continued);
    REQUIRE(asked);
    CHECK(*asked == std::optional<bool>(false));
    CHECK_FALSE(unsampled.sampled);
    CHECK(unsampled.traceparent() ==
          "00-" + std::string(kTraceId) + "-" + std::string(unsampled.span_id_text()) + "-00");

    const auto overruled = make_trace_context(
        std::span<const std::string_view>(), std::span<const std::string_view>(), ids,
        [](std::optional<bool>) { return true; });
    CHECK(overruled.sampled);
    CHECK_THAT(overruled.traceparent(), Catch::EndsWith("-01"));

    // A future version continues as well (the upstream then gets version 00).
    const std::string future = traceparent_of("01", kTraceId, kParentId, "01") + "-extra";
    const auto later = context_of({future}, {}, ids, &asked);
    CHECK(later.continued);
    CHECK(later.trace_id_text() == kTraceId);
    CHECK_THAT(later.traceparent(), Catch::StartsWith("00-" + std::string(kTraceId) + "-"));
}

TEST_CASE("trace context: an invalid traceparent starts a new trace, its tracestate dropped") {
    const std::vector<std::string> invalid = {
        traceparent_of("00", "4BF92F3577B34DA6A3CE929D0E0E4736", kParentId, "01"),
        traceparent_of("00", std::string(32, '0'), kParentId, "01"),
        traceparent_of("00", kTraceId, std::string(16, '0'), "01"),
        traceparent_of("ff", kTraceId, kParentId, "01"),
        kExample.substr(0, 54),
        "",
        "garbage",
    };
    TraceIdSource ids(3);
    for (const auto& value : invalid) {
        INFO("traceparent: '" << value << "'");
        std::optional<std::optional<bool>> asked;
        const auto context = context_of({value}, {"congo=t61rcWkgMzE"}, ids, &asked);
        CHECK_FALSE(context.continued);
        CHECK(context.replaced_because == "invalid traceparent");
        CHECK(context.trace_id_text() != kTraceId);
        CHECK(is_lower_hex(context.trace_id_text()));
        CHECK_FALSE(is_all_zero(context.trace_id_text()));
        CHECK(context.parent_id_text() == std::string(16, '0'));
        CHECK(is_lower_hex(context.span_id_text()));
        CHECK_FALSE(is_all_zero(context.span_id_text()));
        CHECK(context.tracestate.empty());
        REQUIRE(asked);
        CHECK_FALSE(asked->has_value());
        CHECK_FALSE(context.sampled);
        CHECK_THAT(context.traceparent(), Catch::EndsWith("-00"));
    }
}

TEST_CASE("trace context: two traceparents start a new trace, even when both are valid and equal") {
    TraceIdSource ids(4);
    const std::string other = traceparent_of("00", "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", "01");
    for (const auto& pair : std::vector<std::vector<std::string_view>>{{kExample, other}, {kExample, kExample}}) {
        const auto context = context_of(pair, {"congo=t61rcWkgMzE"}, ids);
        CHECK_FALSE(context.continued);
        CHECK(context.replaced_because == "more than one traceparent");
        CHECK(context.trace_id_text() != kTraceId);
        CHECK(context.trace_id_text() != "0af7651916cd43dd8448eb211c80319c");
        CHECK(context.parent_id_text() == std::string(16, '0'));
        CHECK(context.tracestate.empty());
        CHECK_FALSE(context.sampled);
    }
}

TEST_CASE("trace context: no traceparent starts a new trace with an all-zero parent, no tracestate") {
    TraceIdSource ids(5);
    std::optional<std::optional<bool>> asked;
    const auto context = context_of({}, {"congo=t61rcWkgMzE"}, ids, &asked);
    CHECK_FALSE(context.continued);
    CHECK(context.replaced_because.empty());
    CHECK(context.parent_id_text() == std::string(16, '0'));
    CHECK(is_lower_hex(context.trace_id_text()));
    CHECK_FALSE(is_all_zero(context.trace_id_text()));
    CHECK(is_lower_hex(context.span_id_text()));
    CHECK_FALSE(is_all_zero(context.span_id_text()));
    CHECK(context.tracestate.empty());
    REQUIRE(asked);
    CHECK_FALSE(asked->has_value());
    CHECK_FALSE(context.sampled);

    // The source's next trace id, then its next span id.
    TraceIdSource same(5);
    std::array<char, 32> trace{};
    std::array<char, 16> span{};
    same.fill_trace_id(trace);
    same.fill_span_id(span);
    CHECK(context.trace_id_text() == text(trace));
    CHECK(context.span_id_text() == text(span));

    // Each context is a new trace and a new span.
    const auto next = context_of({}, {}, ids);
    CHECK(next.trace_id_text() != context.trace_id_text());
    CHECK(next.span_id_text() != context.span_id_text());
}

TEST_CASE("trace context: traceparent() is version 00, the trace, the gateway's span and the sampled flag") {
    TraceIdSource ids(6);
    auto context = context_of({kExample}, {}, ids);
    const std::string sent = context.traceparent();
    CHECK(sent.size() == 55);
    CHECK(sent == "00-" + std::string(kTraceId) + "-" + std::string(context.span_id_text()) + "-01");
    const auto parsed = parse_traceparent(sent);
    REQUIRE(parsed);
    CHECK(parsed->trace_id == kTraceId);
    CHECK(parsed->parent_id == context.span_id_text());
    CHECK(parsed->sampled());

    context.sampled = false;
    CHECK(context.traceparent() == "00-" + std::string(kTraceId) + "-" + std::string(context.span_id_text()) + "-00");

    const std::string attempt = context.traceparent_with("1111111111111111");
    CHECK(attempt == "00-" + std::string(kTraceId) + "-1111111111111111-00");
    CHECK(attempt.size() == 55);
    CHECK(parse_traceparent(attempt));

    // The allocation-free form writes the same 55 characters.
    std::array<char, TraceContext::kTraceparentSize> buffer{};
    context.write_traceparent(buffer, "1111111111111111");
    CHECK(std::string(buffer.data(), buffer.size()) == attempt);
    context.write_traceparent(buffer, context.span_id_text());
    CHECK(std::string(buffer.data(), buffer.size()) == context.traceparent());

    // A new trace's traceparent parses too.
    const auto fresh = context_of({}, {}, ids);
    const std::string fresh_sent = fresh.traceparent();
    CHECK(fresh_sent.size() == 55);
    const auto fresh_parsed = parse_traceparent(fresh_sent);
    REQUIRE(fresh_parsed);
    CHECK(fresh_parsed->trace_id == fresh.trace_id_text());
    CHECK(fresh_parsed->parent_id == fresh.span_id_text());
    CHECK_FALSE(fresh_parsed->sampled());
}
