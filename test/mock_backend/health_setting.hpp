#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mock_backend {

/// What GET /health answers, as set by PUT /__mock/health. Four bytes and trivially copyable,
/// so the value every thread reads is one lock-free atomic.
struct HealthSetting {
    enum class Answer : std::uint8_t {
        up,     // 200 {"status":"UP"}: the default
        down,   // `status` with {"status":"DOWN"}
        hang,   // no answer, the connection held open (a probe timeout)
        close,  // no answer, the connection closed
    };
    Answer answer = Answer::up;
    std::uint16_t status = 200;  // the status of an `up` or `down` answer

    friend bool operator==(const HealthSetting&, const HealthSetting&) = default;
};

/// Lowest and highest status PUT /__mock/health takes: any the wire can carry as a final one.
inline constexpr unsigned kMinHealthStatus = 100;
inline constexpr unsigned kMaxHealthStatus = 599;

/// The body of PUT /__mock/health: exactly one of {"status": N} (N from 100 to 599: down with
/// that status) or {"fault": "hang"} / {"fault": "close"}. nullopt for anything else, other
/// keys included, so a typo in a test fails loudly instead of leaving /health up.
std::optional<HealthSetting> parse_health_setting(std::string_view body);

/// What parse_health_setting() accepts, for the 400 answer to anything else.
std::string_view health_setting_help() noexcept;

/// The setting as the control endpoint reports it: {"health":"UP","status":200},
/// {"health":"DOWN","status":503} or {"health":"DOWN","fault":"hang"}.
std::string health_setting_json(const HealthSetting& setting);

}  // namespace mock_backend
