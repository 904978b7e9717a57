#include "io/head_writer.hpp"

#include <boost/beast/http/status.hpp>

#include <cstring>

namespace gateway {

namespace http = boost::beast::http;

// Grown once and copied in: four appends would each check capacity.
void append_field(std::string& out, std::string_view name, std::string_view value) {
    const std::size_t at = out.size();
    out.resize(at + name.size() + value.size() + 4);
    char* to = out.data() + at;
    std::memcpy(to, name.data(), name.size());
    to += name.size();
    *to++ = ':';
    *to++ = ' ';
    std::memcpy(to, value.data(), value.size());
    to += value.size();
    *to++ = '\r';
    *to = '\n';
}

void append_status_line(std::string& out, unsigned version, const http::response_header<>& head) {
    const unsigned status = head.result_int();
    const char start[] = {'H', 'T', 'T', 'P', '/',
                          static_cast<char>('0' + version / 10), '.',
                          static_cast<char>('0' + version % 10), ' ',
                          static_cast<char>('0' + status / 100 % 10),
                          static_cast<char>('0' + status / 10 % 10),
                          static_cast<char>('0' + status % 10), ' '};
    out.append(start, sizeof start);
    // Beast's rule: the reason given, else the standard one for the status.
    const auto reason = head.reason();
    out += reason.empty() ? http::obsolete_reason(head.result()) : reason;
    out += "\r\n";
}

}  // namespace gateway
