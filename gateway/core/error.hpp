#pragma once

#include <string>
#include <vector>

#include "core/errc.hpp"

namespace gateway {

/// A failure on the data path: what went wrong (Errc) and the precise detail a client needs
/// to fix it ("path blockId: must be one of 1, 2, got 3").
struct Error {
    Errc errc;
    std::string detail;
    /// Response headers that belong to this error (405's Allow). Rarely non-empty.
    std::vector<std::pair<std::string, std::string>> headers{};
};

}  // namespace gateway
