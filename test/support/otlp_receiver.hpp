#pragma once

// The tracing tests' OTLP/HTTP collector: test/support/otlp_receiver.mjs under Node.js, which
// checks every POST /v1/traces against the official OTLP definitions (the protobufjs root of the
// npm package @opentelemetry/otlp-transformer) and shows the spans it accepted on GET /spans.
//
// Its npm packages are installed on first use, once per build directory, into
// <build>/otlp-receiver (`npm ci` of test/support/otlp/package-lock.json; see
// otlp_receiver_packages), so a fresh machine needs only node and npm on the PATH and the npm
// registry.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/process.hpp"

namespace test_support {

/// The folder holding the receiver's node_modules, installed there first when it is missing or
/// was installed from another package-lock.json. Safe to call from parallel test processes (an
/// flock serialises the install). Throws std::runtime_error with npm's output when it fails.
std::string otlp_receiver_packages();

/// Attributes as the receiver flattens them: the value as text (an intValue in decimal, a
/// boolValue as true/false) and its OTLP kind ("stringValue", "intValue", ...).
struct ReceivedAttributes {
    std::map<std::string, std::string> values;
    std::map<std::string, std::string> kinds;

    bool has(std::string_view key) const { return values.count(std::string(key)) != 0; }
    /// The value when it is a stringValue.
    std::optional<std::string> text(std::string_view key) const;
    /// The value when it is an intValue.
    std::optional<std::int64_t> integer(std::string_view key) const;
};

struct ReceivedEvent {
    std::string name;
    std::uint64_t time_unix_ns = 0;
    ReceivedAttributes attributes;
};

/// One span the receiver accepted.
struct ReceivedSpan {
    std::string trace_id;
    std::string span_id;
    std::string parent_span_id;  // empty when the span has none
    std::string name;
    int kind = 0;  // 2 server, 3 client
    std::uint64_t start_unix_ns = 0;
    std::uint64_t end_unix_ns = 0;
    ReceivedAttributes attributes;
    std::vector<ReceivedEvent> events;
    int status_code = 0;  // 0 unset, 1 ok, 2 error
    std::string status_message;
    std::map<std::string, std::string> resource;  // its resource's attributes, as text
    std::string scope_name;
    std::string scope_version;
    int post = 0;  // the 1-based number of the POST that carried it

    /// One line for INFO(): kind, name, ids, attributes.
    std::string describe() const;
};

/// One POST the receiver got: how it answered (0: not at all, --hang), how many spans it
/// carried, why it refused it ("" when it did not), and when it came (ms since the epoch).
struct ReceivedPost {
    int status = 0;
    int spans = 0;
    std::string problem;
    std::int64_t at_ms = 0;
};

struct OtlpReceiverOptions {
    /// Answer the first `fail_first` posts with `status`, and Retry-After when given.
    int fail_first = 0;
    int status = 503;
    std::optional<int> retry_after_s;
    /// Read every post and never answer it.
    bool hang = false;
    /// Answer each post this long after it came.
    int delay_ms = 0;
};

class OtlpReceiver {
public:
    explicit OtlpReceiver(OtlpReceiverOptions options = {});

    std::uint16_t port() const noexcept { return port_; }
    /// http://127.0.0.1:PORT/v1/traces
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1/traces"; }
    ChildProcess& process() { return *process_; }

    std::vector<ReceivedSpan> spans() const;
    std::vector<ReceivedPost> posts() const;

    /// Polls /spans until `done(spans)` holds or `deadline` passes; answers the last spans seen.
    std::vector<ReceivedSpan> wait_for(const std::function<bool(const std::vector<ReceivedSpan>&)>& done,
                                       Clock::time_point deadline) const;
    /// Polls until spans of trace `trace_id` number at least `count`; answers those spans.
    std::vector<ReceivedSpan> wait_for_trace(const std::string& trace_id, std::size_t count,
                                             std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) const;

private:
    std::unique_ptr<ChildProcess> process_;
    std::uint16_t port_ = 0;
};

/// The spans of `spans` in trace `trace_id`, server spans first (kind 2), in arrival order.
std::vector<ReceivedSpan> spans_of_trace(const std::vector<ReceivedSpan>& spans, const std::string& trace_id);

/// `count` lower-case hex digits, not all zero.
bool is_lower_hex_id(std::string_view text, std::size_t count);

}  // namespace test_support
