#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "http_types.hpp"

namespace mock_backend {

/// The misbehaviours a test can ask for with `x-mock-fault: MODE`. Each one reproduces
/// something the real legacy backends (or the network in front of them) have been seen to do,
/// so the gateway's handling of it can be tested end to end.
enum class FaultMode {
    // Fixed answers that replace the documented one.
    html_500,           // an app server's default error page
    text_404,           // a plain-text 404 from a proxy in front of the backend
    json_409,           // JSON that is not an ErrorMessage
    error_message_404,  // a proper ErrorMessage, which the gateway should relay
    empty_502,
    empty_503,
    big,  // ~3 MiB valid JSON
    big_cut,  // the ~3 MiB answer, cut off halfway (its Content-Length promises all of it)
    big_chunked,  // the ~3 MiB answer with Transfer-Encoding: chunked (no length), two chunks
    // Broken or unusual delivery of the documented answer.
    hang,       // never answer
    close,      // close without answering
    half_body,  // Content-Length: 100, then 50 bytes, then close
    garbage,    // not HTTP at all
    chunked,    // Transfer-Encoding: chunked, two chunks
    slow,       // trickle the response out over a few seconds
    delay,      // answer normally after Fault::delay
    // Bytes nobody asked for on a keep-alive connection (a confused backend, or a late answer).
    extra_response,      // the answer, then a second, stray response 50 ms later
    extra_response_now,  // the answer and a stray response in one write
};

struct Fault {
    FaultMode mode;
    std::chrono::milliseconds delay{0};  // only for FaultMode::delay
};

/// Upper bound for delay-MS, so a typo cannot park a connection for hours.
inline constexpr std::chrono::milliseconds kMaxFaultDelay{600'000};

/// Parses an x-mock-fault value; nullopt for an unknown mode or a delay out of range.
std::optional<Fault> parse_fault(std::string_view value);

/// The list of valid modes, for the 400 answer to an unknown one.
std::string_view fault_modes_help() noexcept;

/// The fixed response of a mode that replaces the documented answer; nullopt for the modes
/// that change how the documented answer is delivered instead.
std::optional<Response> canned_fault_response(FaultMode mode);

}  // namespace mock_backend
