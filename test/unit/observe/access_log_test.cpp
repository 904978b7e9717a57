#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <memory>
#include <system_error>
#include <thread>

#include "observe/access_log.hpp"

using namespace gateway;
namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

struct ScratchDir {
    fs::path path = fs::temp_directory_path() /
                    ("access-log-test-" + std::to_string(::getpid()) + "-" +
                     std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    ScratchDir() { fs::create_directories(path); }
    ~ScratchDir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("access log: lines written before it closes are all in the file, in order") {
    ScratchDir dir;
    const fs::path file = dir.path / "access.log";
    {
        std::ofstream(file) << "kept from before\n";
        AccessLog log(file.string());
        for (int i = 0; i < 1000; ++i) log.write("line " + std::to_string(i) + "\n");
    }
    std::string expected = "kept from before\n";
    for (int i = 0; i < 1000; ++i) expected += "line " + std::to_string(i) + "\n";
    CHECK(read_file(file) == expected);
}

TEST_CASE("access log: reopen after a rename starts a new file, the old one keeps its lines") {
    ScratchDir dir;
    const fs::path file = dir.path / "access.log";
    const fs::path rotated = dir.path / "access.log.1";
    auto log = std::make_unique<AccessLog>(file.string());
    log->write("before\n");
    fs::rename(file, rotated);
    log->write("after the rename, before the signal\n");
    log->reopen();
    // The reopen happens on the writer thread; lines written from now on may still land in
    // the old file until it has, so wait for the new file to appear.
    for (int i = 0; i < 200 && !fs::exists(file); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    REQUIRE(fs::exists(file));
    log->write("after the reopen\n");
    log.reset();  // writes out what is pending
    CHECK(read_file(rotated) == "before\nafter the rename, before the signal\n");
    CHECK(read_file(file) == "after the reopen\n");
}

TEST_CASE("access log: a path that cannot be opened is refused at once") {
    CHECK_THROWS_AS(AccessLog("/nonexistent-dir/access.log"), std::system_error);
}
