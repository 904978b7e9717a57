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
    // One walk over the fields: x-auth-roles lines in the order they came, the first Content-Type.
    std::size_t roles_lines = 0;
    std::string_view first_roles;
    bool have_content_type = false;
    for (const auto& field : header) {
        if (field.name() == http::field::content_type) {
            if (!have_content_type) head.content_type = field.value();
            have_content_type = true;
        } else if (field.name() == http::field::unknown &&
                   iequals(field.name_string(), "x-auth-roles")) {
            // One line is used as it is; a second starts joining them into roles_storage.
            if (roles_lines == 0) {
                first_roles = field.value();
            } else {
                if (roles_lines == 1) roles_storage.assign(first_roles);
                roles_storage += ',';
                roles_storage += field.value();
            }
            ++roles_lines;
        }
    }
    if (roles_lines == 1) head.auth_roles = first_roles;
    if (roles_lines > 1) head.auth_roles = roles_storage;
    if (content_length) head.content_length = static_cast<std::size_t>(*content_length);
    head.chunked = chunked;
    return head;
}

}  // namespace gateway
