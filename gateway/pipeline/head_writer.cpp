#include "pipeline/head_writer.hpp"

#include <boost/beast/http/status.hpp>

namespace gateway {

namespace http = boost::beast::http;

namespace {

void append_fields(std::string& out, const http::fields& fields) {
    for (const auto& field : fields) {
        out += field.name_string();
        out += ": ";
        out += field.value();
        out += "\r\n";
    }
    out += "\r\n";
}

}  // namespace

void append_status_line(std::string& out, unsigned version, const http::response_header<>& head) {
    out += "HTTP/";
    out += static_cast<char>('0' + version / 10);
    out += '.';
    out += static_cast<char>('0' + version % 10);
    out += ' ';
    const unsigned status = head.result_int();
    out += static_cast<char>('0' + status / 100 % 10);
    out += static_cast<char>('0' + status / 10 % 10);
    out += static_cast<char>('0' + status % 10);
    out += ' ';
    // Beast's rule: the reason given, else the standard one for the status.
    const auto reason = head.reason();
    out += reason.empty() ? http::obsolete_reason(head.result()) : reason;
    out += "\r\n";
}

void append_head(std::string& out, const http::response_header<>& head) {
    append_status_line(out, head.version(), head);
    append_fields(out, head);
}

}  // namespace gateway
