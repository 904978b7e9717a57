#pragma once

#include <string>

namespace gateway {

/// One problem in a config file, printed the way compilers do so editors can jump to it:
/// `routes.yaml:12:5: unknown key 'metod' (expected one of: name, method, ...)`.
struct Diagnostic {
    std::string file;
    int line = 0;    // 1-based; 0 when the problem has no position (a missing file)
    int column = 0;  // 1-based
    std::string message;

    std::string to_string() const {
        if (line == 0) return file + ": " + message;
        return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
    }
};

}  // namespace gateway
