#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gateway {

/// RESP2, the Redis protocol (https://redis.io/docs/reference/protocol-spec/): commands out as
/// arrays of bulk strings, replies in. Pure byte work, no I/O.

/// Appends the command `args` (an array of bulk strings) to `out`.
void append_resp_command(std::string& out, std::initializer_list<std::string_view> args);
void append_resp_command(std::string& out, const std::vector<std::string_view>& args);
/// One bulk string (`$N CRLF bytes CRLF`): a command's argument, for commands built in parts.
void append_resp_bulk(std::string& out, std::string_view arg);

/// One reply. Arrays hold their elements; a null bulk string or array is Type::null.
struct RespReply {
    enum class Type { simple, error, integer, bulk, null, array };
    Type type = Type::null;
    std::string text;          // simple, error, bulk
    std::int64_t integer = 0;  // integer
    std::vector<RespReply> elements;  // array

    bool is_error() const noexcept { return type == Type::error; }
    /// The error's code, its first word ("NOSCRIPT", "MOVED", "ASK", "NOAUTH", "ERR").
    std::string_view error_code() const noexcept;
};

/// Reads replies off the front of a byte stream as they complete.
class RespParser {
public:
    /// Limits that keep a broken or hostile peer from making us allocate without bound: no
    /// reply the gateway asks for comes near them (CLUSTER SLOTS of a large cluster is a few
    /// hundred kilobytes).
    static constexpr std::size_t kMaxBulk = 16 * 1024 * 1024;
    static constexpr std::size_t kMaxElements = 1024 * 1024;
    static constexpr int kMaxDepth = 8;

    enum class Status { complete, incomplete, malformed };
    struct Parsed {
        Status status;
        std::size_t consumed = 0;  // bytes of `data` the reply took (when complete)
        RespReply reply;
    };

    /// The first reply in `data`: complete (with its length), incomplete (more bytes needed;
    /// nothing is kept, call again with the longer buffer), or malformed (the stream is lost).
    static Parsed parse(std::string_view data);
};

/// The Redis Cluster slot of `key` (0..16383): CRC16 (XMODEM) of the key, or of its hash tag,
/// the text between the first '{' and the next '}' when that is not empty.
std::uint16_t redis_key_slot(std::string_view key) noexcept;
inline constexpr std::uint16_t kRedisSlots = 16384;

}  // namespace gateway
