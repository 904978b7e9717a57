#include "server/admin_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <ctime>

#include "pipeline/error_responder.hpp"

namespace gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr std::string_view kAdminEndpoints = "GET /healthz, /readyz, /routes, /upstreams, /ratelimits and /metrics";

std::string iso8601(std::chrono::system_clock::time_point when) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

}  // namespace

std::string routes_json(const Config& config, const ConfigStore& store) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> json(buffer);
    json.StartObject();
    json.Key("config_file");
    json.String(config.source_file);
    json.Key("config_hash");
    json.String(config.source_hash);
    json.Key("loaded_at");
    json.String(iso8601(config.loaded_at));
    json.Key("loads");
    json.Uint64(store.reloads());
    json.Key("failed_reloads");
    json.Uint64(store.failed_reloads());
    json.Key("routes");
    json.StartArray();
    for (const auto& route : config.routes) {
        json.StartObject();
        json.Key("name");
        json.String(route.name);
        json.Key("method");
        json.String(route.method);
        json.Key("path");
        json.String(route.path.text());
        json.Key("upstream");
        json.String(config.upstreams[route.upstream_index].name);
        json.Key("roles");
        json.StartArray();
        for (const auto& role : route.roles) json.String(role);
        json.EndArray();
        if (route.body_schema) {
            json.Key("body_schema");
            json.String(route.body_schema->file());
        }
        json.EndObject();
    }
    json.EndArray();
    json.Key("upstreams");
    json.StartArray();
    for (const auto& upstream : config.upstreams) {
        json.StartObject();
        json.Key("name");
        json.String(upstream.name);
        json.Key("endpoints");
        json.StartArray();
        for (const auto& endpoint : upstream.endpoints) json.String(endpoint.to_string());
        json.EndArray();
        json.EndObject();
    }
    json.EndArray();
    json.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
}

AdminServer::AdminServer(const tcp::endpoint& listen, const ConfigStore& store,
                         const std::atomic<bool>& draining,
                         Sources sources)
    : acceptor_(io_, listen), store_(store), draining_(draining), sources_(std::move(sources)) {
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
}

AdminServer::~AdminServer() { stop(); }

void AdminServer::stop() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
}

asio::awaitable<void> AdminServer::accept_loop() {
    while (true) {
        boost::system::error_code ec;
        tcp::socket socket =
            co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec == asio::error::operation_aborted) co_return;
        if (ec) continue;
        asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> AdminServer::serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    boost::system::error_code ec;
    while (true) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(8 * 1024);
        parser.body_limit(0);
        stream.expires_after(std::chrono::seconds(30));
        co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
        const auto& request = parser.get();
        http::response<http::string_body> response{http::status::ok, request.version()};
        response.set(http::field::content_type, "application/json");
        const std::string_view target = request.target();
        const bool known = target == "/healthz" || target == "/readyz" || target == "/routes" ||
                           target == "/upstreams" || target == "/ratelimits" || target == "/metrics";
        if (!known) {
            // Refused like the data port refuses: an ErrorMessage a script can parse.
            response = render_error(Error{Errc::route_not_found,
                                          "the admin port has no " + std::string(target) +
                                              "; it serves " + std::string(kAdminEndpoints)},
                                    request.version(), {});
        } else if (request.method() != http::verb::get) {
            response = render_error(Error{Errc::method_not_allowed,
                                          std::string(request.method_string()) + " " +
                                              std::string(target) + ": the admin port answers GET only",
                                          {{"Allow", "GET"}}},
                                    request.version(), {});
        } else if (target == "/healthz") {
            response.body() = R"({"status":"alive"})";
        } else if (target == "/readyz") {
            const bool draining = draining_.load(std::memory_order_relaxed);
            const std::string unready = draining || !sources_.unready ? std::string() : sources_.unready();
            response.result(draining || !unready.empty() ? http::status::service_unavailable
                                                         : http::status::ok);
            if (draining) {
                response.body() = R"({"status":"draining"})";
            } else if (!unready.empty()) {
                rapidjson::StringBuffer buffer;
                rapidjson::Writer<rapidjson::StringBuffer> json(buffer);
                json.StartObject();
                json.Key("status");
                json.String("unready");
                json.Key("reason");
                json.String(unready);
                json.EndObject();
                response.body().assign(buffer.GetString(), buffer.GetSize());
            } else {
                response.body() = R"({"status":"ready"})";
            }
        } else if (target == "/routes") {
            response.body() = routes_json(*store_.current(), store_);
        } else if (target == "/upstreams") {
            response.body() = sources_.upstreams ? sources_.upstreams() : "{}";
        } else if (target == "/ratelimits") {
            response.body() = sources_.rate_limits ? sources_.rate_limits() : "{}";
        } else {
            response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
            response.body() = sources_.metrics();
        }
        response.keep_alive(request.keep_alive());
        response.prepare_payload();
        stream.expires_after(std::chrono::seconds(30));
        co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
        if (ec || !response.keep_alive()) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace gateway
