#include "io/resp.hpp"

#include <charconv>
#include <cstring>

namespace gateway {
namespace {

/// `prefix` (one of '*', '$'), the decimal `n` and CRLF, in one append.
void append_count(std::string& out, char prefix, std::size_t n) {
    char text[24];
    text[0] = prefix;
    char* end = std::to_chars(text + 1, text + sizeof text - 2, n).ptr;
    *end++ = '\r';
    *end++ = '\n';
    out.append(text, static_cast<std::size_t>(end - text));
}

void append_bulk(std::string& out, std::string_view arg) {
    append_count(out, '$', arg.size());
    out.append(arg);
    out.append("\r\n", 2);
}

using Status = RespParser::Status;

/// A recursive-descent reader over one buffer; `at` moves past what it read.
struct Reader {
    std::string_view data;
    std::size_t at = 0;

    /// The line from `at` to its CRLF (exclusive), moving past it.
    Status line(std::string_view& out) {
        // memchr for the CR, then its LF: a two-byte find() costs several times as much, and
        // every reply is a few short lines.
        std::size_t from = at;
        while (true) {
            const void* cr = from < data.size() ? std::memchr(data.data() + from, '\r', data.size() - from)
                                                : nullptr;
            if (cr == nullptr) {
                // A line longer than any number or status Redis sends is no RESP.
                return data.size() - at > 64 * 1024 ? Status::malformed : Status::incomplete;
            }
            const std::size_t end = static_cast<std::size_t>(static_cast<const char*>(cr) - data.data());
            if (end + 1 >= data.size()) return Status::incomplete;
            if (data[end + 1] == '\n') {
                out = data.substr(at, end - at);
                at = end + 2;
                return Status::complete;
            }
            from = end + 1;  // a lone CR inside a simple string or an error's text
        }
    }

    static bool number(std::string_view text, std::int64_t& out) {
        if (text.empty()) return false;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
        return ec == std::errc() && end == text.data() + text.size();
    }

    Status reply(RespReply& out, int depth) {
        if (at >= data.size()) return Status::incomplete;
        const char type = data[at++];
        // A peer that is no Redis (or a stream out of step) is told at its first byte, not
        // after a line that may never end.
        if (std::string_view("+-:$*").find(type) == std::string_view::npos) return Status::malformed;
        std::string_view text;
        if (const Status s = line(text); s != Status::complete) return s;
        switch (type) {
            case '+':
                out.type = RespReply::Type::simple;
                out.text.assign(text);
                return Status::complete;
            case '-':
                out.type = RespReply::Type::error;
                out.text.assign(text);
                return Status::complete;
            case ':':
                out.type = RespReply::Type::integer;
                return number(text, out.integer) ? Status::complete : Status::malformed;
            case '$': {
                std::int64_t length = 0;
                if (!number(text, length) || length < -1 ||
                    length > static_cast<std::int64_t>(RespParser::kMaxBulk)) {
                    return Status::malformed;
                }
                if (length == -1) {
                    out.type = RespReply::Type::null;
                    return Status::complete;
                }
                const auto size = static_cast<std::size_t>(length);
                if (data.size() - at < size + 2) return Status::incomplete;
                if (data.substr(at + size, 2) != "\r\n") return Status::malformed;
                out.type = RespReply::Type::bulk;
                out.text.assign(data.substr(at, size));
                at += size + 2;
                return Status::complete;
            }
            case '*': {
                std::int64_t count = 0;
                if (!number(text, count) || count < -1 ||
                    count > static_cast<std::int64_t>(RespParser::kMaxElements) ||
                    depth >= RespParser::kMaxDepth) {
                    return Status::malformed;
                }
                if (count == -1) {
                    out.type = RespReply::Type::null;
                    return Status::complete;
                }
                out.type = RespReply::Type::array;
                // Every element takes at least 3 bytes (":0\r\n" is 4): no count larger than
                // what has arrived is reserved for.
                out.elements.reserve(std::min<std::size_t>(static_cast<std::size_t>(count),
                                                           (data.size() - at) / 3 + 1));
                for (std::int64_t i = 0; i < count; ++i) {
                    RespReply element;
                    if (const Status s = reply(element, depth + 1); s != Status::complete) return s;
                    out.elements.push_back(std::move(element));
                }
                return Status::complete;
            }
            default: return Status::malformed;
        }
    }
};

}  // namespace

void append_resp_command(std::string& out, std::initializer_list<std::string_view> args) {
    append_count(out, '*', args.size());
    for (const auto arg : args) append_bulk(out, arg);
}

void append_resp_command(std::string& out, const std::vector<std::string_view>& args) {
    append_count(out, '*', args.size());
    for (const auto arg : args) append_bulk(out, arg);
}

void append_resp_bulk(std::string& out, std::string_view arg) { append_bulk(out, arg); }

std::string_view RespReply::error_code() const noexcept {
    const std::string_view all = text;
    return all.substr(0, all.find(' '));
}

std::uint16_t redis_key_slot(std::string_view key) noexcept {
    if (const auto open = key.find('{'); open != std::string_view::npos) {
        const auto close = key.find('}', open + 1);
        if (close != std::string_view::npos && close > open + 1) key = key.substr(open + 1, close - open - 1);
    }
    // CRC-16/XMODEM: polynomial 0x1021, no reflection, initial 0 (the cluster spec's).
    std::uint16_t crc = 0;
    for (const char c : key) {
        crc ^= static_cast<std::uint16_t>(static_cast<unsigned char>(c)) << 8;
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc & 0x8000) ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021)
                                 : static_cast<std::uint16_t>(crc << 1);
        }
    }
    return crc % kRedisSlots;
}

RespParser::Parsed RespParser::parse(std::string_view data) {
    Reader reader{data};
    Parsed parsed{Status::incomplete, 0, {}};
    parsed.status = reader.reply(parsed.reply, 0);
    if (parsed.status == Status::complete) parsed.consumed = reader.at;
    return parsed;
}

}  // namespace gateway
