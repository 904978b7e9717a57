#include "io/mailbox.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <system_error>

namespace gateway {

namespace asio = boost::asio;

namespace {

int open_eventfd() {
    const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    return fd;
}

}  // namespace

Mailbox::Mailbox(asio::io_context& io)
    : executor_(io.get_executor()), doorbell_(executor_, open_eventfd()) {}

void Mailbox::open() { ring_wait(); }

void Mailbox::post(std::function<void()> task) {
    {
        std::lock_guard lock(mutex_);
        tasks_.push_back(std::move(task));
    }
    const std::uint64_t one = 1;
    // Can only fail if the counter is about to overflow, i.e. the bell is ringing anyway.
    [[maybe_unused]] const auto written = ::write(doorbell_.native_handle(), &one, sizeof one);
}

void Mailbox::ring_wait() {
    doorbell_.async_read_some(asio::buffer(&rings_, sizeof rings_),
                              [this](const boost::system::error_code& ec, std::size_t) {
                                  // Balances the count the scheduler drops after this handler,
                                  // since the read was discounted when it started (below).
                                  executor_.on_work_started();
                                  if (ec) return;  // the descriptor closed: the worker is going
                                  run_tasks();
                                  ring_wait();
                              });
    // The pending read is counted as outstanding work; discount it so that it alone does not
    // keep the context running.
    executor_.on_work_finished();
}

void Mailbox::run_tasks() {
    std::vector<std::function<void()>> tasks;
    {
        std::lock_guard lock(mutex_);
        tasks.swap(tasks_);
    }
    for (auto& task : tasks) task();
}

}  // namespace gateway
