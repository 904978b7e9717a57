// Redis replies as a peer might send them, whole or cut anywhere: the parser never reads past
// its buffer, never claims more bytes than it has, and a reply it completes parses the same
// from exactly its own bytes. (resp.cpp is compiled in: the io library it belongs to is not
// built for fuzzing, its Asio half being beyond clang 14.)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "io/resp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    for (int replies = 0; replies < 64 && !input.empty(); ++replies) {
        const auto parsed = gateway::RespParser::parse(input);
        if (parsed.status != gateway::RespParser::Status::complete) break;
        if (parsed.consumed == 0 || parsed.consumed > input.size()) std::abort();
        const auto again = gateway::RespParser::parse(input.substr(0, parsed.consumed));
        if (again.status != gateway::RespParser::Status::complete || again.consumed != parsed.consumed) {
            std::abort();
        }
        if (parsed.consumed > 1) {
            const auto cut = gateway::RespParser::parse(input.substr(0, parsed.consumed - 1));
            if (cut.status == gateway::RespParser::Status::complete) std::abort();
        }
        (void)parsed.reply.error_code();
        input.remove_prefix(parsed.consumed);
    }
    (void)gateway::redis_key_slot(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
