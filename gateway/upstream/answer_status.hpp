#pragma once

namespace gateway {

/// Statuses whose answers always reach the client as they came: successes and 304, which has
/// no body by definition (the client's cache needs it as it is). The forwarder streams only
/// these (any other answer is read whole, to be normalised from its body); the pipeline passes
/// them on untouched.
inline bool passes_unchanged(int status) {
    return (status >= 200 && status < 300) || status == 304;
}

}  // namespace gateway
