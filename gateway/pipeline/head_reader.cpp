#include "pipeline/head_reader.hpp"

#include "core/text.hpp"

namespace gateway {

namespace http = boost::beast::http;

RequestHead read_request_head(const http::request_header<>& header,
                              std::optional<std::uint64_t> content_length, bool chunked,
                              std::string& roles_storage) {
    RequestHead head;
    head.method = header.method_string();
    head.target = header.target();
    bool any_roles = false;
    roles_storage.clear();
    for (auto it = header.find("x-auth-roles"); it != header.end(); ++it) {
        if (!iequals(it->name_string(), "x-auth-roles")) break;
        if (any_roles) roles_storage += ',';
        roles_storage += it->value();
        any_roles = true;
    }
    if (any_roles) head.auth_roles = roles_storage;
    if (const auto it = header.find(http::field::content_type); it != header.end()) {
        head.content_type = it->value();
    }
    if (content_length) head.content_length = static_cast<std::size_t>(*content_length);
    head.chunked = chunked;
    return head;
}

}  // namespace gateway
