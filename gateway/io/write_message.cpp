#include "io/write_message.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>

namespace gateway {

namespace asio = boost::asio;

Task<std::size_t> write_head_and_body(TimedStream& stream, std::string_view head,
                                      std::string_view body, boost::system::error_code& ec) {
    const std::size_t sent = stream.transport().send_now(head, body, ec);
    if (ec || sent == head.size() + body.size()) co_return sent;
    // The transport took part of it, or nothing: the rest goes out as it makes room.
    const std::string_view head_rest = sent < head.size() ? head.substr(sent) : std::string_view();
    const std::string_view body_rest = sent < head.size() ? body : body.substr(sent - head.size());
    const std::array<asio::const_buffer, 2> rest{asio::buffer(head_rest), asio::buffer(body_rest)};
    const std::size_t later =
        co_await asio::async_write(stream, rest, asio::redirect_error(use_task, ec));
    co_return sent + later;
}

}  // namespace gateway
