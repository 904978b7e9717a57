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
        const bool drop =
            it->name() != http::field::connection &&
            (is_hop_by_hop(*it) ||
             std::any_of(named.begin(), named.end(),
                         [&](std::string_view name) { return iequals(it->name_string(), name); }));
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

RequestIdSource::RequestIdSource() {
    std::random_device device;
    state_ = (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

std::uint64_t RequestIdSource::next_random() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

std::string RequestIdSource::generate() {
    static constexpr char kHex[] = "0123456789abcdef";
    std::uint8_t bytes[16];
    const std::uint64_t high = next_random();
    const std::uint64_t low = next_random();
    for (int i = 0; i < 8; ++i) {
        bytes[i] = static_cast<std::uint8_t>(high >> (56 - 8 * i));
        bytes[8 + i] = static_cast<std::uint8_t>(low >> (56 - 8 * i));
    }
    bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0F) | 0x40);  // version 4
    bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
    std::string id(36, '-');
    std::size_t at = 0;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) ++at;  // the dashes stay
        id[at++] = kHex[bytes[i] >> 4];
        id[at++] = kHex[bytes[i] & 0xF];
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
