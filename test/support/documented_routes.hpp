#pragma once

#include <string>
#include <vector>

namespace test_support {

/// A valid request to one of the seven routes of routes.yaml, with the upstream it goes to.
struct SampleRequest {
    std::string route;     // the route's name in routes.yaml
    std::string method;
    std::string target;
    std::string body;      // sent with Content-Type: application/json when not empty
    std::string upstream;  // selfCareSocket or penalties
    int expected_status;   // what the mock answers
};

inline const std::vector<SampleRequest>& documented_requests() {
    static const std::vector<SampleRequest> requests = {
        {"get-subscription-blocks", "GET", "/v2/orgs/telco/subscriptions/214748364/blocks", "",
         "selfCareSocket", 200},
        {"patch-subscription-block", "PATCH", "/v2/orgs/telco/subscriptions/214748364/blocks/1",
         R"({"active": true, "reason": "Lo ha perdido"})", "selfCareSocket", 201},
        {"get-account-penalties", "GET", "/v2/orgs/telco/penalties/214748364?reason=unsubscribe",
         "", "penalties", 200},
        {"get-subscription-penalties", "GET",
         "/v2/orgs/telco/penalties/214748364/subscriptions/214748364?reason=broadband_subscription",
         "", "penalties", 200},
        {"get-subscription-penalties-by-uuid", "GET",
         "/v2/orgs/telco/penalties/214748364/subscriptions/uuid/123e4567-e89b-12d3-a456-556642440000",
         "", "penalties", 200},
        {"compute-penalty", "PUT", "/v2/orgs/telco/penalties/214748364?penalties=[0]", "",
         "penalties", 200},
        {"delete-penalty", "DELETE", "/v2/orgs/telco/penalties/214748364", "", "penalties", 200},
    };
    return requests;
}

/// The simplest documented request, for "the gateway still works" checks.
inline constexpr const char* kBlocksTarget = "/v2/orgs/telco/subscriptions/214748364/blocks";
inline constexpr const char* kPatchTarget = "/v2/orgs/telco/subscriptions/214748364/blocks/1";
inline constexpr const char* kPenaltiesTarget = "/v2/orgs/telco/penalties/214748364?reason=cancel";

}  // namespace test_support
