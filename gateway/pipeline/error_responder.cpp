#include "pipeline/error_responder.hpp"

#include "upstream/header_policy.hpp"

namespace gateway {

namespace http = boost::beast::http;

ClientResponse render_error(const ErrorMessage& message, unsigned http_version,
                            std::string_view request_id,
                            const std::vector<std::pair<std::string, std::string>>& headers) {
    ClientResponse response{static_cast<http::status>(message.http_status), http_version};
    response.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : headers) response.set(name, value);
    if (!request_id.empty()) response.set(kRequestIdHeader, request_id);
    response.body() = message.to_json();
    response.prepare_payload();
    return response;
}

}  // namespace gateway
