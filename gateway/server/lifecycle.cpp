#include "server/lifecycle.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "observe/access_record.hpp"
#include "server/config_watcher.hpp"

#include <chrono>
#include <functional>
#include <future>
#include <iostream>
#include <optional>
#include <thread>

namespace gateway {

namespace asio = boost::asio;

namespace {
constexpr std::chrono::milliseconds kWorkerSwitchWait{2000};
}  // namespace

std::shared_ptr<const Config> Lifecycle::reload(std::vector<std::unique_ptr<Worker>>& workers) {
    const auto before = store_.current();
    LoadResult loaded = store_.load();
    if (!loaded.config) {
        std::cerr << "gateway: reload of " << store_.path() << " failed; still serving config "
                  << before->source_hash << (before->tls ? " and its certificates" : "") << "\n";
        for (const auto& diagnostic : loaded.diagnostics) {
            std::cerr << diagnostic.to_string() << "\n";
        }
        return before;
    }
    // An editor's save can raise several events for one content: apply each content once.
    // The certificates' bytes count as content: a rotated certificate alone is a new config.
    if (loaded.config->source_hash == before->source_hash &&
        loaded.config->tls_digest == before->tls_digest) {
        store_.publish(loaded.config);
        return loaded.config;
    }
    for (const auto& warning : loaded.warnings) std::cerr << warning.to_string() << "\n";
    // The admin port and the access log report a config as the one in force only once every
    // worker serves it: a client that sees the new hash and then opens a connection must not
    // land on a worker still switching. Workers switch between two events of their loop, so
    // the wait is short; the bound only guards against a worker that has stopped.
    std::vector<std::future<void>> switched;
    switched.reserve(workers.size());
    for (auto& worker : workers) switched.push_back(worker->apply(loaded.config));
    for (auto& future : switched) {
        if (future.wait_for(kWorkerSwitchWait) != std::future_status::ready) {
            std::cerr << "gateway: a worker did not take config " << loaded.config->source_hash
                      << " within " << kWorkerSwitchWait.count() << " ms\n";
        }
    }
    store_.publish(loaded.config);
    if (on_applied_) on_applied_(loaded.config);
    if (access_log_) access_log_->write(config_line(*loaded.config, "config_reloaded"));
    std::cerr << "gateway: reloaded " << store_.path() << ": config " << loaded.config->source_hash
              << ", " << loaded.config->routes.size() << " routes";
    if (loaded.config->tls_digest != before->tls_digest) {
        std::cerr << ", certificates " << loaded.config->tls_digest;
    }
    std::cerr << "\n";
    return loaded.config;
}

int Lifecycle::run(std::vector<std::unique_ptr<Worker>>& workers,
                   const std::function<void()>& on_ready) {
    asio::io_context control;
    asio::signal_set signals(control, SIGINT, SIGTERM);
    asio::signal_set reload_signals(control, SIGHUP);
    asio::signal_set reopen_signals(control, SIGUSR1);
    std::function<void(const boost::system::error_code&, int)> on_reopen_signal =
        [&](const boost::system::error_code& ec, int) {
            if (ec) return;
            if (access_log_) access_log_->reopen();
            reopen_signals.async_wait(on_reopen_signal);
        };
    reopen_signals.async_wait(on_reopen_signal);
    std::optional<ConfigWatcher> watcher;
    const auto reload_and_follow = [&] {
        if (draining_) return;
        watcher->follow(reload(workers)->tls_files);
    };
    watcher.emplace(control, store_.path(), reload_and_follow);
    watcher->follow(store_.current()->tls_files);
    std::function<void(const boost::system::error_code&, int)> on_reload_signal =
        [&](const boost::system::error_code& ec, int) {
            if (ec) return;
            reload_and_follow();
            reload_signals.async_wait(on_reload_signal);
        };
    reload_signals.async_wait(on_reload_signal);
    asio::steady_timer deadline(control);
    std::size_t running = workers.size();
    bool forced = false;

    const auto stop_all = [&] {
        forced = true;
        for (auto& worker : workers) worker->stop();
    };
    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& ec, int) {
            if (ec) return;
            if (draining_.exchange(true)) {
                std::cerr << "gateway: second signal, stopping now\n";
                stop_all();
                return;
            }
            std::cerr << "gateway: draining (up to " << drain_timeout_.count() << " ms)\n";
            drain_deadline_ = std::chrono::steady_clock::now() + drain_timeout_;
            for (auto& worker : workers) worker->drain();
            deadline.expires_after(drain_timeout_);
            deadline.async_wait([&](const boost::system::error_code& timer_ec) {
                if (timer_ec) return;
                std::cerr << "gateway: drain deadline passed, stopping now\n";
                stop_all();
            });
            signals.async_wait(on_signal);
        };
    signals.async_wait(on_signal);

    on_ready();
    std::vector<std::thread> threads;
    for (auto& worker : workers) {
        threads.emplace_back([&, worker = worker.get()] {
            worker->run();
            asio::post(control, [&] {
                if (--running > 0) return;
                deadline.cancel();
                signals.cancel();
                reload_signals.cancel();
                reopen_signals.cancel();
                watcher->cancel();
            });
        });
    }
    control.run();
    for (auto& thread : threads) thread.join();
    if (!forced) std::cerr << "gateway: stopped\n";
    return forced ? 1 : 0;
}

}  // namespace gateway
