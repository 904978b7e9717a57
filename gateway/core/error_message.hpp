#pragma once

#include <string>

#include "core/error.hpp"

namespace gateway {

/// The documented error body: `{"code": int, "status": string, "message": string,
/// "detailMsg": string}`. Every error a client sees has this shape.
struct ErrorMessage {
    int http_status = 500;
    int code = 0;
    std::string status;
    std::string message;
    std::string detail_msg;

    /// The catalogue row of `error` with its detail.
    static ErrorMessage from(const Error& error);

    /// The one JSON writer for the error body.
    std::string to_json() const;
};

}  // namespace gateway
