#pragma once

#include <utility>  // before Asio's coroutine headers

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "io/executor.hpp"

namespace gateway::test {

/// An upstream on 127.0.0.1 that runs on the test's io_context and answers each request head
/// it reads with the next scripted reply, in order over all its connections.
class ScriptedUpstream {
public:
    /// What to do with the next request.
    struct Reply {
        std::string bytes;    // written as they are
        bool close = false;   // then close the connection
        bool silent = false;  // write nothing and keep the connection open
    };

    explicit ScriptedUpstream(boost::asio::io_context& io)
        : acceptor_(io, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
        accept();
    }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    void then(std::string bytes) { replies_.push_back({std::move(bytes)}); }
    void then_close(std::string bytes = {}) { replies_.push_back({std::move(bytes), true}); }
    void then_silence() { replies_.push_back({{}, false, true}); }

    int connections_accepted = 0;
    std::vector<std::string> request_heads;  // as received, in order

private:
    struct Peer {
        explicit Peer(Socket s) : socket(std::move(s)) {}
        Socket socket;
        std::string buffer;
    };

    void accept() {
        acceptor_.async_accept([this](const boost::system::error_code& ec, Socket socket) {
            if (ec) return;
            ++connections_accepted;
            read(std::make_shared<Peer>(std::move(socket)));
            accept();
        });
    }

    void read(std::shared_ptr<Peer> peer) {
        boost::asio::async_read_until(
            peer->socket, boost::asio::dynamic_buffer(peer->buffer), "\r\n\r\n",
            [this, peer](const boost::system::error_code& ec, std::size_t head_size) {
                if (ec) return;
                request_heads.push_back(peer->buffer.substr(0, head_size));
                peer->buffer.erase(0, head_size);  // the tests send no request bodies
                if (replies_.empty()) return;
                Reply reply = std::move(replies_.front());
                replies_.pop_front();
                if (reply.silent) {
                    silent_.push_back(peer);
                    return;
                }
                auto bytes = std::make_shared<std::string>(std::move(reply.bytes));
                boost::asio::async_write(
                    peer->socket, boost::asio::buffer(*bytes),
                    [this, peer, bytes, close = reply.close](const boost::system::error_code& ec,
                                                             std::size_t) {
                        if (ec) return;
                        if (close) {
                            peer->socket.close();
                        } else {
                            read(peer);
                        }
                    });
            });
    }

    Acceptor acceptor_;
    std::deque<Reply> replies_;
    std::vector<std::shared_ptr<Peer>> silent_;  // kept open, never answered
};

}  // namespace gateway::test
