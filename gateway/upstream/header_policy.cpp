#include "upstream/header_policy.hpp"

#include <algorithm>
#include <vector>

#include "core/text.hpp"

namespace gateway {

namespace http = boost::beast::http;

void strip_hop_by_hop(http::fields& fields) {
    // Headers named by Connection are hop-by-hop too, whatever they are called.
    std::vector<std::string> named;
    for (auto it = fields.find(http::field::connection); it != fields.end() &&
                                                         it->name() == http::field::connection;
         ++it) {
        std::string_view tokens = it->value();
        while (!tokens.empty()) {
            const std::size_t comma = tokens.find(',');
            const auto token = trim(tokens.substr(0, comma));
            if (!token.empty()) named.emplace_back(token);
            if (comma == std::string_view::npos) break;
            tokens.remove_prefix(comma + 1);
        }
    }
    for (const auto& name : named) fields.erase(name);
    for (const auto field : {http::field::connection, http::field::keep_alive, http::field::te,
                             http::field::trailer, http::field::transfer_encoding,
                             http::field::upgrade, http::field::proxy_authenticate,
                             http::field::proxy_authorization, http::field::proxy_connection}) {
        fields.erase(field);
    }
    // Any other Proxy-* header (Proxy-Status, vendor ones) is addressed to this hop as well.
    for (auto it = fields.begin(); it != fields.end();) {
        const std::string_view name = it->name_string();
        if (name.size() > 6 && iequals(name.substr(0, 6), "proxy-")) {
            it = fields.erase(it);
        } else {
            ++it;
        }
    }
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
