#include "json_bodies.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace mock_backend {

namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// RapidJSON's String() takes a length, so views need no NUL terminator and escaping is always
// RapidJSON's (never hand-rolled).
void write_string(JsonWriter& w, std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void write_key(JsonWriter& w, std::string_view key) {
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}

void write_penalty(JsonWriter& w, const ComputedPenalty& p) {
    w.StartObject();
    write_key(w, "id");
    w.Int64(p.id);
    write_key(w, "account_id");
    w.Int64(p.account_id);
    write_key(w, "subscription_id");
    w.Int64(p.subscription_id);
    if (p.subscription_uuid) {
        write_key(w, "subscription_uuid");
        write_string(w, *p.subscription_uuid);
    }
    write_key(w, "penalty_type");
    write_string(w, p.penalty_type);
    write_key(w, "amount");
    w.Double(p.amount);
    write_key(w, "currency");
    write_string(w, p.currency);
    write_key(w, "start_date");
    write_string(w, p.start_date);
    write_key(w, "end_date");
    write_string(w, p.end_date);
    write_key(w, "description");
    write_string(w, p.description);
    w.EndObject();
}

std::string take(const rapidjson::StringBuffer& buffer) {
    return std::string{buffer.GetString(), buffer.GetSize()};
}

}  // namespace

std::string subscription_blocks_json(std::int64_t subscription_id) {
    rapidjson::StringBuffer buffer;
    JsonWriter w{buffer};
    w.StartObject();
    write_key(w, "subscription_id");
    w.Int64(subscription_id);
    write_key(w, "items");
    w.StartArray();
    w.StartObject();
    // The block's own id, not the subscription's: 1, as in the benchmark's reference upstream
    // (shared/bench nginx config), which the PATCH .../blocks/1 of the workload refers to.
    write_key(w, "id");
    w.Int64(1);
    write_key(w, "value");
    write_string(w, "ROBO");
    write_key(w, "date_last_modified");
    write_string(w, "2017-09-15T22:00:00Z");
    write_key(w, "description");
    write_string(w, "A PETICION DE CLIENTE");
    w.EndObject();
    w.EndArray();
    w.EndObject();
    return take(buffer);
}

std::string computed_penalties_json(const std::vector<ComputedPenalty>& penalties) {
    rapidjson::StringBuffer buffer;
    JsonWriter w{buffer};
    w.StartArray();
    for (const auto& p : penalties) {
        write_penalty(w, p);
    }
    w.EndArray();
    return take(buffer);
}

std::string error_message_json(int code, std::string_view status, std::string_view message,
                               std::string_view detail) {
    rapidjson::StringBuffer buffer;
    JsonWriter w{buffer};
    w.StartObject();
    write_key(w, "code");
    w.Int(code);
    write_key(w, "status");
    write_string(w, status);
    write_key(w, "message");
    write_string(w, message);
    write_key(w, "detailMsg");
    write_string(w, detail);
    w.EndObject();
    return take(buffer);
}

const std::string& big_penalties_json() {
    // A function-local static: built on first use (thread-safe), never on startup, so the
    // common benchmark path does not pay for it.
    static const std::string body = [] {
        constexpr std::size_t kTargetBytes = 3u * 1024u * 1024u;
        rapidjson::StringBuffer buffer;
        JsonWriter w{buffer};
        w.StartArray();
        ComputedPenalty p;
        p.account_id = 214748364;
        p.penalty_type = "unsubscribe";
        p.currency = "EUR";
        p.start_date = "2017-09-15T22:00:00Z";
        p.end_date = "2018-09-15T22:00:00Z";
        p.description = "Permanencia";
        for (std::int64_t i = 1; buffer.GetSize() < kTargetBytes; ++i) {
            p.id = i;
            p.subscription_id = 214748364 + i;
            p.amount = static_cast<double>(i % 500) + 0.5;
            write_penalty(w, p);
        }
        w.EndArray();
        return take(buffer);
    }();
    return body;
}

}  // namespace mock_backend
