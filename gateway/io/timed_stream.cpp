#include "io/timed_stream.hpp"

#include <boost/beast/core/error.hpp>

#include <algorithm>

namespace gateway {

TimedStream::TimedStream(Transport transport, Clock::duration granularity)
    : state_(std::make_shared<State>(std::move(transport), granularity)) {}

TimedStream::TimedStream(const executor_type& executor, Clock::duration granularity)
    : state_(std::make_shared<State>(executor, granularity)) {}

TimedStream::~TimedStream() {
    // A pending wait ends with operation_aborted and finds the state gone or expired.
    state_->timer.cancel();
}

void TimedStream::expires_at(Clock::time_point deadline) {
    State& state = *state_;
    state.deadline = deadline;
    if (!state.waiting) {
        arm(state_);
    } else if (deadline < state.armed_at) {
        // Only a deadline closer than the granularity promised: wake earlier.
        state.timer.cancel();
        state.waiting = false;
        arm(state_);
    }
}

void TimedStream::arm(const std::shared_ptr<State>& state) {
    if (state->deadline == Clock::time_point::max() || state->timed_out) return;
    state->armed_at = std::min(state->deadline, Clock::now() + state->granularity);
    state->timer.expires_at(state->armed_at);
    state->waiting = true;
    state->timer.async_wait([weak = std::weak_ptr<State>(state)](const boost::system::error_code& ec) {
        if (ec) return;  // cancelled: re-armed elsewhere, or the stream is gone
        const auto state = weak.lock();
        if (!state) return;
        state->waiting = false;
        if (state->deadline <= Clock::now()) {
            state->timed_out = true;
            state->transport.close();
            return;
        }
        arm(state);
    });
}

boost::system::error_code TimedStream::result(const boost::system::error_code& ec) const {
    if (ec && state_->timed_out) return boost::beast::error::timeout;
    return ec;
}

void TimedStream::close() {
    state_->transport.close();
    state_->timer.cancel();
    state_->waiting = false;
}

}  // namespace gateway
