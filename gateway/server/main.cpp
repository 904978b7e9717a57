// gateway: wires the command line, the config and the workers together; no logic of its own.

#include <utility>  // before Asio's coroutine headers: Boost 1.74's awaitable needs std::exchange

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <atomic>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#ifdef GATEWAY_WITH_MIMALLOC
#include <mimalloc.h>
#endif

#include "config/config_loader.hpp"
#include "config/config_store.hpp"
#include "gateway/version.hpp"
#include "observe/access_log.hpp"
#include "observe/access_record.hpp"
#include "observe/log_throttle.hpp"
#include "observe/metrics_exposition.hpp"
#include "server/command_line.hpp"
#include "server/admin_server.hpp"
#include "server/lifecycle.hpp"
#include "server/rate_limit_status.hpp"
#include "server/upstream_status.hpp"
#include "server/worker.hpp"
#include "upstream/health_checker.hpp"

namespace {

using namespace gateway;

int serve(const CommandLine& command_line, ConfigStore& store) {
    const std::shared_ptr<const Config> config = store.current();
    const unsigned threads =
        command_line.threads ? command_line.threads : std::max(1u, std::thread::hardware_concurrency());
    std::atomic<std::size_t> open_connections{0};

    // Declared before the workers, which write to it: it outlives them and, destroyed last,
    // writes out every line still pending.
    std::unique_ptr<AccessLog> access_log;
    if (!command_line.access_log.empty()) {
        try {
            access_log = std::make_unique<AccessLog>(command_line.access_log);
        } catch (const std::system_error& e) {
            std::cerr << "gateway: cannot open the access log " << command_line.access_log << ": "
                      << e.code().message() << "\n";
            return 1;
        }
        access_log->write(config_line(*config, "config_loaded"));
    }

    std::vector<std::unique_ptr<Worker>> workers;
    ListenAddresses listen{command_line.listen, command_line.listen_tls};
    LogThrottle handshake_log;  // before the workers, which log through it
    UpstreamStates upstream_states;  // before the workers, which share it
    RateLimiter rate_limiter;        // likewise
    RedisHealth redis_health;        // likewise
    SpanExporter spans(kVersion);    // likewise; its thread sends what tracing: records
    spans.apply(config->tracing);
    rate_limiter.retain(config->routes);
    try {
        for (unsigned i = 0; i < threads; ++i) {
            workers.push_back(std::make_unique<Worker>(config, listen, open_connections,
                                                       access_log.get(), handshake_log,
                                                       upstream_states, rate_limiter,
                                                       redis_health, spans));
            // Port 0: the others join the ports the first one was given.
            listen = workers.front()->local_endpoints();
        }
    } catch (const boost::system::system_error& e) {
        std::cerr << "gateway: cannot listen on ";
        if (command_line.listen) std::cerr << *command_line.listen;
        if (command_line.listen && command_line.listen_tls) std::cerr << " or ";
        if (command_line.listen_tls) std::cerr << *command_line.listen_tls << " (--listen-tls)";
        std::cerr << ": " << e.code().message() << "\n";
        return 1;
    }
    Lifecycle lifecycle(command_line.drain_timeout, store, access_log.get());
    HealthChecker health_checker(upstream_states);
    health_checker.apply(config);
    lifecycle.on_config_applied([&](const std::shared_ptr<const Config>& applied) {
        upstream_states.retain(*applied);
        rate_limiter.retain(applied->routes);
        spans.apply(applied->tracing);
        health_checker.apply(applied);
    });
    std::unique_ptr<AdminServer> admin;
    if (command_line.admin) {
        try {
            // Each worker copies its counters on its own thread; the sum is serialised here.
            const auto collect = [&workers](std::size_t* pooled) {
                WorkerMetrics summed;
                for (auto& worker : workers) {
                    if (auto collected = worker->collect_metrics(std::chrono::milliseconds(500))) {
                        summed.add(collected->first);
                        if (pooled) *pooled += collected->second;
                    }
                }
                return summed;
            };
            // By value: the admin server keeps these after this block.
            const auto render = [collect, &open_connections, &store, &access_log, &upstream_states,
                                 &rate_limiter, &redis_health, &spans] {
                ProcessGauges gauges;
                std::size_t pooled = 0;
                const WorkerMetrics summed = collect(&pooled);
                gauges.pooled_upstream_connections = pooled;
                gauges.open_client_connections = open_connections.load(std::memory_order_relaxed);
                gauges.config_loads = store.reloads();
                gauges.config_reload_failures = store.failed_reloads();
                if (access_log) gauges.access_log_dropped_lines = access_log->dropped_lines();
                const auto current = store.current();
                gauges.upstreams = upstream_samples(*current, upstream_states,
                                                    std::chrono::steady_clock::now());
                gauges.tracing_spans_exported = spans.exported();
                gauges.tracing_spans_dropped = spans.dropped();
                gauges.tracing_export_failures = spans.failed_exports();
                if (current->redis) {
                    gauges.redis_up = redis_health.view(std::chrono::steady_clock::now()).state ==
                                      RedisHealth::State::up;
                }
                for (const auto& route : current->routes) {
                    if (route.rate_limit && route.rate_limit->scope == RateLimit::Scope::local) {
                        gauges.rate_limit_keys.emplace_back(route.name, rate_limiter.keys(route.name));
                    }
                }
                return render_metrics(summed, gauges);
            };
            AdminServer::Sources sources{
                render,
                [&] {
                    return upstreams_json(*store.current(), upstream_states,
                                          std::chrono::steady_clock::now());
                },
                [&store, &redis_health, collect] {
                    return rate_limits_json(*store.current(), collect(nullptr), redis_health,
                                            std::chrono::steady_clock::now());
                },
                [&] {
                    return unready_upstreams(*store.current(), upstream_states,
                                             std::chrono::steady_clock::now());
                }};
            admin = std::make_unique<AdminServer>(*command_line.admin, store, lifecycle.draining(),
                                                  std::move(sources));
        } catch (const boost::system::system_error& e) {
            std::cerr << "gateway: cannot listen on " << *command_line.admin
                      << " (--admin): " << e.code().message() << "\n";
            return 1;
        }
    }
    // Lifecycle::run takes the signals over before calling this: a SIGTERM right after the
    // "listening on" line must stop us cleanly, not by its default action.
    const auto announce = [&] {
        std::cout << "gateway " << kVersion << ": " << config->routes.size() << " routes from "
                  << config->source_file << ", " << threads << " worker thread(s)\n";
        if (listen.plain) std::cout << "listening on " << *listen.plain << "\n";
        if (listen.tls) std::cout << "listening with TLS on " << *listen.tls << "\n";
        if (admin) std::cout << "admin listening on " << admin->local_endpoint() << "\n";
        std::cout << std::flush;
    };
    const int exit_code = lifecycle.run(workers, announce);
    // The spans of the last requests, sent within what is left of the drain's time (a dead
    // collector cannot hold the exit longer): at least one try of a fraction of a second.
    spans.drain(std::max(lifecycle.drain_deadline(),
                         std::chrono::steady_clock::now() + std::chrono::milliseconds(200)));
    if (admin) admin->stop();
    return exit_code;
}

/// Which malloc the process runs on, for --version: performance depends on it.
std::string allocator_name() {
#ifdef GATEWAY_WITH_MIMALLOC
    const int version = mi_version();  // e.g. 209 for 2.0.9
    return "mimalloc " + std::to_string(version / 100) + "." + std::to_string(version / 10 % 10) +
           "." + std::to_string(version % 10);
#else
    return "glibc";
#endif
}

}  // namespace

int main(int argc, char* argv[]) {
    const auto parsed = parse_command_line(argc, argv);
    if (!parsed.command_line) {
        std::cerr << "gateway: " << parsed.error << "\n\n" << parsed.usage;
        return 2;
    }
    const CommandLine& command_line = *parsed.command_line;
    if (command_line.show_help) {
        std::cout << parsed.usage;
        return 0;
    }
    if (command_line.show_version) {
        std::cout << "gateway " << kVersion << " (malloc: " << allocator_name() << ")\n";
        return 0;
    }

    // --check validates what is portable (YAML, routes, schemas, overrides); serving also
    // needs every upstream host name to resolve here.
    ConfigOverrides overrides = command_line.overrides;
    overrides.tls_listener = command_line.listen_tls.has_value();
    ConfigStore store(command_line.config_path, overrides);
    const LoadResult loaded = command_line.check_only
                                  ? load_config(command_line.config_path, overrides)
                                  : store.reload();
    for (const auto& diagnostic : loaded.diagnostics) std::cerr << diagnostic.to_string() << "\n";
    for (const auto& warning : loaded.warnings) std::cerr << warning.to_string() << "\n";
    if (!loaded.config) {
        std::cerr << "gateway: " << loaded.diagnostics.size() << " problem(s) in "
                  << command_line.config_path << (command_line.check_only ? "" : "; not starting")
                  << "\n";
        return 1;
    }
    if (command_line.check_only) {
        std::cout << command_line.config_path << ": OK, " << loaded.config->routes.size()
                  << " routes, " << loaded.config->upstreams.size() << " upstreams\n";
        return 0;
    }
    return serve(command_line, store);
}
