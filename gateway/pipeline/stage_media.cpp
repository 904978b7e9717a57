// Stage "media": what the head declares of the body, before a byte of it is read: no body for
// a route that takes none, application/json for one that does (415), a declared length within
// the route's limit (413). A chunked body's size is only known as it is read: the body read
// holds it to the same limit.
#include "core/text.hpp"
#include "pipeline/stages.hpp"

namespace gateway {

namespace {

std::string_view first_token(std::string_view content_type) {
    return trim(content_type.substr(0, content_type.find(';')));
}

}  // namespace

Status media_stage(Exchange& exchange) {
    const RouteConfig& route = *exchange.route;
    const RequestHead& head = exchange.head;
    const bool has_body = head.chunked || head.content_length.value_or(0) > 0;
    if (!route.body_schema) {
        if (!has_body) return Ok{};
        return Error{Errc::unexpected_body,
                     "body: " + route.method + " " + route.path.text() + " takes no body, got " +
                         (head.chunked ? std::string("a chunked body")
                                       : std::to_string(*head.content_length) + " bytes")};
    }
    const std::string_view media = head.content_type ? first_token(*head.content_type) : "";
    if (!iequals(media, "application/json")) {
        return Error{Errc::unsupported_media_type,
                     "header Content-Type: expected application/json, got " +
                         (head.content_type ? quoted_excerpt(*head.content_type) : "none")};
    }
    if (head.content_length && *head.content_length > route.max_body_bytes) {
        return Error{Errc::payload_too_large,
                     "body: " + std::to_string(*head.content_length) + " bytes, the limit is " +
                         std::to_string(route.max_body_bytes)};
    }
    return Ok{};
}

}  // namespace gateway
