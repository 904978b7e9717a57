#include "support/access_log_lines.hpp"

#include <catch2/catch.hpp>

#include <sstream>

#include "support/hardening.hpp"

namespace test_support {

std::vector<rapidjson::Document> log_lines(const std::filesystem::path& path) {
    std::vector<rapidjson::Document> lines;
    std::istringstream text(read_text_file(path.string()));
    for (std::string line; std::getline(text, line);) {
        rapidjson::Document parsed;
        parsed.Parse(line.c_str());
        INFO(line);
        REQUIRE_FALSE(parsed.HasParseError());
        lines.push_back(std::move(parsed));
    }
    return lines;
}

std::string json_text(const rapidjson::Value& value) {
    return value.IsString() ? std::string(value.GetString(), value.GetStringLength()) : "<not a string>";
}

rapidjson::Document wait_for_request(const std::filesystem::path& path, const std::string& request_id) {
    rapidjson::Document found;
    const bool seen = poll_until(
        [&] {
            for (auto& line : log_lines(path)) {
                if (line.HasMember("request_id") && line["request_id"].IsString() &&
                    json_text(line["request_id"]) == request_id) {
                    found = std::move(line);
                    return true;
                }
            }
            return false;
        },
        Clock::now() + std::chrono::milliseconds(3000));
    INFO("request id " << request_id << " in " << read_text_file(path.string()));
    REQUIRE(seen);
    return found;
}

}  // namespace test_support
