#pragma once

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <string_view>

#include "io/executor.hpp"
#include "io/timed_stream.hpp"

namespace gateway {

/// Writes a message's head and body, both in memory, as one gathered write. It is tried at once
/// (Transport::send_now: on plain TCP one non-blocking sendmsg, which on a socket with room, the
/// usual case for a small message, finishes it without waiting and without a trip through the
/// scheduler); what the transport did not take goes out asynchronously. Answers the bytes
/// written; `ec` tells how it ended, deadlines are the stream's.
Task<std::size_t> write_head_and_body(TimedStream& stream, std::string_view head,
                                      std::string_view body, boost::system::error_code& ec);

}  // namespace gateway
