#include "upstream/header_policy.hpp"

#include <boost/container/small_vector.hpp>

#include <algorithm>
#include <iterator>
#include <vector>

#include "core/text.hpp"

namespace gateway {

namespace http = boost::beast::http;

namespace {

bool is_hop_by_hop(const http::fields::value_type& field) {
    switch (field.name()) {
        case http::field::keep_alive:
        case http::field::te:
        case http::field::trailer:
        case http::field::transfer_encoding:
        case http::field::upgrade:
        case http::field::proxy_authenticate:
        case http::field::proxy_authorization:
        case http::field::proxy_connection:
            return true;
        default:
            break;
    }
    // Any other Proxy-* header (Proxy-Status, vendor ones) is addressed to this hop as well.
    const std::string_view name = field.name_string();
    return name.size() > 6 && iequals(name.substr(0, 6), "proxy-");
}

}  // namespace

void strip_hop_by_hop(http::fields& fields) {
    // Headers named by Connection are hop-by-hop too, whatever they are called. The names are
    // views into the Connection fields, so those go last, after every other erase.
    boost::container::small_vector<std::string_view, 8> named;
    bool any_connection = false;
    for (auto it = fields.find(http::field::connection);
         it != fields.end() && it->name() == http::field::connection; ++it) {
        any_connection = true;
        std::string_view tokens = it->value();
        while (!tokens.empty()) {
            const std::size_t comma = tokens.find(',');
            const auto token = trim(tokens.substr(0, comma));
            if (!token.empty()) named.push_back(token);
            if (comma == std::string_view::npos) break;
            tokens.remove_prefix(comma + 1);
        }
    }
    // One pass over the fields rather than one lookup per hop-by-hop name.
    for (auto it = fields.begin(); it != fields.end();) {
        bool drop = it->name() != http::field::connection && is_hop_by_hop(*it);
        for (std::size_t i = 0; !drop && i < named.size(); ++i) {
            drop = it->name() != http::field::connection && iequals(it->name_string(), named[i]);
        }
        it = drop ? fields.erase(it) : std::next(it);
    }
    if (any_connection) fields.erase(http::field::connection);
}

void append_forwarded_for(http::fields& fields, std::string_view client_address) {
    std::string value;
    for (auto it = fields.find("X-Forwarded-For"); it != fields.end() &&
                                                   iequals(it->name_string(), "X-Forwarded-For");
         ++it) {
        if (!value.empty()) value += ", ";
        value += it->value();
    }
    if (!value.empty()) value += ", ";
    value += client_address;
    fields.erase("X-Forwarded-For");
    fields.insert("X-Forwarded-For", value);
}

RequestIdSource::RequestIdSource() : random_(std::random_device{}()) {}

std::string RequestIdSource::generate() {
    static constexpr char kHex[] = "0123456789abcdef";
    const std::uint64_t high = random_();
    const std::uint64_t low = random_();
    std::string id(36, '-');
    std::size_t bit = 0;
    for (std::size_t i = 0; i < id.size(); ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23) continue;
        const std::uint64_t word = bit < 64 ? high : low;
        std::size_t nibble = (word >> (60 - bit % 64)) & 0xF;
        if (i == 14) nibble = 4;                      // version 4
        if (i == 19) nibble = 8 | (nibble & 0x3);     // RFC 4122 variant
        id[i] = kHex[nibble];
        bit += 4;
    }
    return id;
}

std::string RequestIdSource::ensure(http::fields& fields) {
    const auto it = fields.find(kRequestIdHeader);
    if (it != fields.end()) {
        const std::string_view given = it->value();
        const bool sane = !given.empty() && given.size() <= 128 &&
                          std::all_of(given.begin(), given.end(), [](char c) {
                              return std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                                     c == '_' || c == '.' || c == ':';
                          });
        // Exactly one sane id is kept; anything else is replaced so logs stay trustworthy.
        if (sane && fields.count(kRequestIdHeader) == 1) return std::string(given);
        fields.erase(kRequestIdHeader);
    }
    std::string id = generate();
    fields.insert(kRequestIdHeader, id);
    return id;
}

}  // namespace gateway
