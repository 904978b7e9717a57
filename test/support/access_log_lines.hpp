#pragma once

#include <rapidjson/document.h>

#include <filesystem>
#include <string>
#include <vector>

namespace test_support {

/// A gateway access log's lines as JSON documents (every line must parse: a test fails when
/// one does not).
std::vector<rapidjson::Document> log_lines(const std::filesystem::path& path);

/// A JSON string's text, or "<not a string>".
std::string json_text(const rapidjson::Value& value);

/// Waits (up to 3 s) until the log holds a request line with this request id, and answers it.
rapidjson::Document wait_for_request(const std::filesystem::path& path, const std::string& request_id);

}  // namespace test_support
