#include "server/lifecycle.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <iostream>
#include <thread>

namespace gateway {

namespace asio = boost::asio;

int Lifecycle::run(std::vector<std::unique_ptr<Worker>>& workers,
                   const std::function<void()>& on_ready) {
    asio::io_context control;
    asio::signal_set signals(control, SIGINT, SIGTERM);
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
            });
        });
    }
    control.run();
    for (auto& thread : threads) thread.join();
    if (!forced) std::cerr << "gateway: stopped\n";
    return forced ? 1 : 0;
}

}  // namespace gateway
