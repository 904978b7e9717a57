// Method and target bytes against the project's route table, through every head check.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "project_config.hpp"
#include "core/error_message.hpp"
#include "pipeline/request_checks.hpp"
#include "pipeline/stages.hpp"


extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static constexpr std::string_view kMethods[] = {"GET", "PATCH", "PUT", "DELETE", "POST", "get"};
    if (size == 0) return 0;
    gateway::RequestHead head;
    head.method = kMethods[data[0] % std::size(kMethods)];
    head.target = std::string_view(reinterpret_cast<const char*>(data + 1), size - 1);
    head.auth_roles = (data[0] & 0x80) ? "GUEST, API_KEY" : "API_KEY";
    head.content_type = "application/json";
    head.content_length = (data[0] & 0x40) ? 17 : 0;
    const auto& config = project_config();
    const auto match = config.table.match(head.method, head.target.substr(0, head.target.find('?')));
    const auto checked = gateway::check_head(config, head);
    if (checked.ok()) {
        // Only a path the table matched can be admitted, and it goes to that route.
        if (match.kind != gateway::RouteMatch::Kind::found) __builtin_trap();
        if (checked->route != &config.routes[match.route_index]) __builtin_trap();
    } else {
        (void)gateway::ErrorMessage::from(checked.error()).to_json();
    }
    return 0;
}
