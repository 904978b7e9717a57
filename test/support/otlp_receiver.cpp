#include "support/otlp_receiver.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/gateway_fixture.hpp"
#include "support/hardening.hpp"
#include "support/http_client.hpp"

namespace test_support {
namespace {

namespace fs = std::filesystem;

/// An exclusive flock on `path`, released when it goes.
class FileLock {
public:
    explicit FileLock(const fs::path& path) {
        fd_ = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
        if (fd_ < 0) throw std::runtime_error("cannot open the lock file " + path.string());
        while (::flock(fd_, LOCK_EX) != 0) {
            if (errno != EINTR) throw std::runtime_error("cannot lock " + path.string());
        }
    }
    ~FileLock() {
        if (fd_ >= 0) ::close(fd_);  // releases the lock
    }
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

private:
    int fd_ = -1;
};

std::string text_of(const rapidjson::Value& value) {
    if (value.IsString()) return std::string(value.GetString(), value.GetStringLength());
    if (value.IsBool()) return value.GetBool() ? "true" : "false";
    if (value.IsInt64()) return std::to_string(value.GetInt64());
    if (value.IsUint64()) return std::to_string(value.GetUint64());
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    value.Accept(writer);
    return std::string(buffer.GetString(), buffer.GetSize());
}

std::string string_member(const rapidjson::Value& object, const char* name) {
    const auto it = object.FindMember(name);
    if (it == object.MemberEnd()) return {};
    return text_of(it->value);
}

std::uint64_t nanoseconds_member(const rapidjson::Value& object, const char* name) {
    const std::string text = string_member(object, name);
    return text.empty() ? 0 : std::stoull(text);
}

int int_member(const rapidjson::Value& object, const char* name) {
    const auto it = object.FindMember(name);
    return it != object.MemberEnd() && it->value.IsInt() ? it->value.GetInt() : 0;
}

ReceivedAttributes attributes_of(const rapidjson::Value& object) {
    ReceivedAttributes out;
    const auto values = object.FindMember("attributes");
    const auto kinds = object.FindMember("attributeTypes");
    if (values != object.MemberEnd() && values->value.IsObject()) {
        for (const auto& member : values->value.GetObject()) {
            out.values[text_of(member.name)] = text_of(member.value);
        }
    }
    if (kinds != object.MemberEnd() && kinds->value.IsObject()) {
        for (const auto& member : kinds->value.GetObject()) {
            out.kinds[text_of(member.name)] = text_of(member.value);
        }
    }
    return out;
}

/// GET `target` on the receiver; the parsed JSON body (throws when it is not 200 JSON).
rapidjson::Document get_json(std::uint16_t port, const std::string& target) {
    HttpClient client(port, std::chrono::milliseconds(3000));
    const HttpResponse response = client.send("GET", target);
    if (response.status != 200) throw std::runtime_error("otlp receiver GET " + target + ": " + response.describe());
    rapidjson::Document document;
    document.Parse(response.body.data(), response.body.size());
    if (document.HasParseError() || !document.IsObject()) {
        throw std::runtime_error("otlp receiver GET " + target + ": not JSON: " + response.body);
    }
    return document;
}

}  // namespace

std::string otlp_receiver_packages() {
    static std::mutex mutex;
    static std::string installed;
    std::lock_guard guard(mutex);
    if (!installed.empty()) return installed;

    // GATEWAY_BIN is <build>/bin/gateway: the packages go beside the build's binaries, never
    // into the source tree.
    const fs::path build = fs::path(GATEWAY_BIN).parent_path().parent_path();
    const fs::path source = fs::path(TEST_SOURCE_DIR) / "test" / "support" / "otlp";
    const fs::path dir = build / "otlp-receiver";
    const std::string lock_text = read_text_file((source / "package-lock.json").string());
    if (lock_text.empty()) throw std::runtime_error("cannot read " + (source / "package-lock.json").string());
    fs::create_directories(dir);
    // Parallel ctest processes: one installs, the others wait and then find it done.
    const FileLock lock(build / "otlp-receiver.lock");
    const fs::path stamp = dir / ".installed-from-package-lock.json";
    const fs::path root = dir / "node_modules" / "@opentelemetry" / "otlp-transformer" / "build" / "src" /
                          "generated" / "root.js";
    if (read_text_file(stamp.string()) != lock_text || !fs::exists(root)) {
        std::error_code ignored;
        fs::remove(stamp, ignored);
        fs::copy_file(source / "package.json", dir / "package.json", fs::copy_options::overwrite_existing);
        fs::copy_file(source / "package-lock.json", dir / "package-lock.json",
                      fs::copy_options::overwrite_existing);
        // Exactly the locked versions; no install scripts (none is needed: protobufjs' only
        // checks its own version).
        const RunResult npm = run_to_completion(
            "/usr/bin/env",
            {"npm", "ci", "--prefix", dir.string(), "--ignore-scripts", "--no-audit", "--no-fund",
             "--loglevel=error"},
            std::chrono::milliseconds(100000));
        if (npm.exit_code != 0 || !fs::exists(root)) {
            throw std::runtime_error(
                "npm ci --prefix " + dir.string() + " failed (exit code " + std::to_string(npm.exit_code) +
                "; the tracing tests' OTLP receiver needs node >= 20.6 and npm on the PATH, and the npm "
                "registry): " + npm.out + npm.err);
        }
        std::ofstream(stamp, std::ios::binary) << lock_text;
    }
    installed = dir.string();
    return installed;
}

std::optional<std::string> ReceivedAttributes::text(std::string_view key) const {
    const auto kind = kinds.find(std::string(key));
    if (kind == kinds.end() || kind->second != "stringValue") return std::nullopt;
    return values.at(std::string(key));
}

std::optional<std::int64_t> ReceivedAttributes::integer(std::string_view key) const {
    const auto kind = kinds.find(std::string(key));
    if (kind == kinds.end() || kind->second != "intValue") return std::nullopt;
    return std::stoll(values.at(std::string(key)));
}

std::string ReceivedSpan::describe() const {
    std::ostringstream out;
    out << "span kind " << kind << " '" << name << "' trace " << trace_id << " span " << span_id
        << " parent '" << parent_span_id << "' status " << status_code << " '" << status_message
        << "' " << start_unix_ns << ".." << end_unix_ns << " {";
    for (const auto& [key, value] : attributes.values) {
        const auto kind_of = attributes.kinds.find(key);
        out << ' ' << key << '=' << value << '(' << (kind_of == attributes.kinds.end() ? "?" : kind_of->second) << ')';
    }
    out << " }";
    for (const auto& event : events) {
        out << " event '" << event.name << "' {";
        for (const auto& [key, value] : event.attributes.values) out << ' ' << key << '=' << value;
        out << " }";
    }
    return out.str();
}

OtlpReceiver::OtlpReceiver(OtlpReceiverOptions options) {
    std::vector<std::string> args{"node", std::string(TEST_SOURCE_DIR) + "/test/support/otlp_receiver.mjs",
                                  "--packages", otlp_receiver_packages(), "--port", "0"};
    if (options.fail_first > 0) {
        args.insert(args.end(), {"--fail-first", std::to_string(options.fail_first), "--status",
                                 std::to_string(options.status)});
        if (options.retry_after_s) args.insert(args.end(), {"--retry-after", std::to_string(*options.retry_after_s)});
    }
    if (options.hang) args.push_back("--hang");
    if (options.delay_ms > 0) args.insert(args.end(), {"--delay-ms", std::to_string(options.delay_ms)});
    // env(1) finds node on the PATH and execs it: the child's pid is node's.
    process_ = std::make_unique<ChildProcess>("/usr/bin/env", std::move(args));
    const auto line = process_->wait_for_line("listening on ", deadline_in(kStartupTimeout));
    if (!line) {
        throw std::runtime_error("the OTLP receiver did not print 'listening on'; stdout: " + process_->stdout_text());
    }
    port_ = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
}

std::vector<ReceivedSpan> OtlpReceiver::spans() const {
    const rapidjson::Document document = get_json(port_, "/spans");
    std::vector<ReceivedSpan> out;
    for (const auto& item : document["spans"].GetArray()) {
        ReceivedSpan span;
        span.trace_id = string_member(item, "traceId");
        span.span_id = string_member(item, "spanId");
        span.parent_span_id = string_member(item, "parentSpanId");
        span.name = string_member(item, "name");
        span.kind = int_member(item, "kind");
        span.start_unix_ns = nanoseconds_member(item, "startTimeUnixNano");
        span.end_unix_ns = nanoseconds_member(item, "endTimeUnixNano");
        span.attributes = attributes_of(item);
        for (const auto& event : item["events"].GetArray()) {
            span.events.push_back({string_member(event, "name"), nanoseconds_member(event, "timeUnixNano"),
                                   attributes_of(event)});
        }
        span.status_code = int_member(item["status"], "code");
        span.status_message = string_member(item["status"], "message");
        for (const auto& member : item["resource"].GetObject()) {
            span.resource[text_of(member.name)] = text_of(member.value);
        }
        span.scope_name = string_member(item["scope"], "name");
        span.scope_version = string_member(item["scope"], "version");
        span.post = int_member(item, "post");
        out.push_back(std::move(span));
    }
    return out;
}

std::vector<ReceivedPost> OtlpReceiver::posts() const {
    const rapidjson::Document document = get_json(port_, "/posts");
    std::vector<ReceivedPost> out;
    for (const auto& item : document["posts"].GetArray()) {
        ReceivedPost post;
        post.status = int_member(item, "status");
        post.spans = int_member(item, "spans");
        post.problem = string_member(item, "problem");
        post.at_ms = item.HasMember("at") && item["at"].IsInt64() ? item["at"].GetInt64() : 0;
        out.push_back(std::move(post));
    }
    return out;
}

std::vector<ReceivedSpan> OtlpReceiver::wait_for(
    const std::function<bool(const std::vector<ReceivedSpan>&)>& done, Clock::time_point deadline) const {
    while (true) {
        std::vector<ReceivedSpan> seen = spans();
        if (done(seen) || Clock::now() >= deadline) return seen;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
}

std::vector<ReceivedSpan> OtlpReceiver::wait_for_trace(const std::string& trace_id, std::size_t count,
                                                       std::chrono::milliseconds limit) const {
    const auto seen = wait_for(
        [&](const std::vector<ReceivedSpan>& spans) { return spans_of_trace(spans, trace_id).size() >= count; },
        Clock::now() + limit);
    return spans_of_trace(seen, trace_id);
}

std::vector<ReceivedSpan> spans_of_trace(const std::vector<ReceivedSpan>& spans, const std::string& trace_id) {
    std::vector<ReceivedSpan> out;
    for (const auto& span : spans) {
        if (span.trace_id == trace_id && span.kind == 2) out.push_back(span);
    }
    for (const auto& span : spans) {
        if (span.trace_id == trace_id && span.kind != 2) out.push_back(span);
    }
    return out;
}

bool is_lower_hex_id(std::string_view text, std::size_t count) {
    if (text.size() != count) return false;
    bool nonzero = false;
    for (const char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
        nonzero = nonzero || c != '0';
    }
    return nonzero;
}

}  // namespace test_support
