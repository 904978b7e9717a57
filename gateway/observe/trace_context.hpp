#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace gateway {

/// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` and
/// `tracestate` request headers, read and written. Pure text work, no I/O.

/// The fields of a valid inbound traceparent, viewing the header's value.
struct TraceParent {
    std::string_view trace_id;   // 32 lower-case hex digits, not all zero
    std::string_view parent_id;  // 16 lower-case hex digits, not all zero
    std::uint8_t flags = 0;      // bit 0: sampled
    bool sampled() const noexcept { return (flags & 0x01) != 0; }
};

/// `value` as a traceparent, or nothing when it is not one: the version is two lower-case hex
/// digits and not "ff"; version 00 is exactly `00-<trace-id>-<parent-id>-<flags>` (55
/// characters); a later version has at least those fields, and a '-' after them if it goes on
/// (its extra fields are ignored, as the spec says). Upper-case hex, all-zero ids, a missing
/// or extra dash, surrounding spaces: all invalid.
std::optional<TraceParent> parse_traceparent(std::string_view value);

/// The `tracestate` to pass on: the values of every tracestate header in order, joined into one
/// list; empty members and members that are no `key=value` dropped; at most 32 members and
/// 512 bytes kept, the first ones (W3C: the leftmost is the most recent vendor's). Empty when
/// nothing is left.
std::string combine_tracestate(std::span<const std::string_view> values);

/// What a request carries of its trace through the gateway: its trace, the gateway's own span,
/// the caller's span if it sent a valid traceparent, and the sampled flag passed on.
struct TraceContext {
    std::array<char, 32> trace_id{};
    std::array<char, 16> span_id{};    // the gateway's span (the upstream's parent)
    std::array<char, 16> parent_id{};  // the caller's span; all '0' when the trace began here
    bool continued = false;            // the caller's traceparent was valid and is continued
    bool sampled = false;
    /// Sampled with `tracing:` configured: the gateway records and exports this request's spans.
    bool recording = false;
    /// Why the caller's traceparent was not continued ("" when there was none, or it was):
    /// for the access log and the span's events.
    std::string_view replaced_because;
    std::string tracestate;

    std::string_view trace_id_text() const noexcept { return {trace_id.data(), trace_id.size()}; }
    std::string_view span_id_text() const noexcept { return {span_id.data(), span_id.size()}; }
    std::string_view parent_id_text() const noexcept { return {parent_id.data(), parent_id.size()}; }

    /// The traceparent the upstream gets: version 00, this trace, `span` as its parent (the
    /// gateway's span unless given another, such as an attempt's), the sampled flag.
    std::string traceparent() const { return traceparent_with(span_id_text()); }
    std::string traceparent_with(std::string_view span) const;
    /// The same into a buffer of its exact size (no allocation); `span` is 16 hex digits.
    static constexpr std::size_t kTraceparentSize = 55;
    void write_traceparent(std::array<char, kTraceparentSize>& out, std::string_view span) const;
};

/// Random trace and span ids (lower-case hex, never all zero): SplitMix64, seeded once from
/// std::random_device. Unique, not secret. One per worker; not thread-safe by design.
class TraceIdSource {
public:
    TraceIdSource();
    explicit TraceIdSource(std::uint64_t seed) : state_(seed) {}

    void fill_trace_id(std::array<char, 32>& out);
    void fill_span_id(std::array<char, 16>& out);
    /// A uniform draw from [0, 1), for sampling.
    double uniform();

private:
    std::uint64_t next();
    std::uint64_t state_;
};

/// A request's trace context from its headers: `traceparent` (every value the request carried
/// under that name) continued when there is exactly one and it is valid, else a new trace;
/// `sampled` as `decide_sampled` says from the caller's flag (or nullopt when not continued).
template <typename DecideSampled>
TraceContext make_trace_context(std::span<const std::string_view> traceparents,
                                std::span<const std::string_view> tracestates, TraceIdSource& ids,
                                DecideSampled decide_sampled);

/// The non-template work of make_trace_context.
TraceContext begin_trace_context(std::span<const std::string_view> traceparents,
                                 std::span<const std::string_view> tracestates, TraceIdSource& ids,
                                 std::optional<TraceParent>& parent);

template <typename DecideSampled>
TraceContext make_trace_context(std::span<const std::string_view> traceparents,
                                std::span<const std::string_view> tracestates, TraceIdSource& ids,
                                DecideSampled decide_sampled) {
    std::optional<TraceParent> parent;
    TraceContext context = begin_trace_context(traceparents, tracestates, ids, parent);
    context.sampled = decide_sampled(parent ? std::optional<bool>(parent->sampled()) : std::nullopt);
    return context;
}

}  // namespace gateway
