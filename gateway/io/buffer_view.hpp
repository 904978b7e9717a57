#pragma once

#include <boost/beast/core/flat_buffer.hpp>

#include <string_view>

namespace gateway {

/// The bytes a read buffer holds, as text (a flat_buffer's readable bytes are contiguous).
inline std::string_view view_of(const boost::beast::flat_buffer& buffer) {
    return {static_cast<const char*>(buffer.data().data()), buffer.size()};
}

}  // namespace gateway
