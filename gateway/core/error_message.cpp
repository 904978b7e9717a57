#include "core/error_message.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace gateway {

ErrorMessage ErrorMessage::from(const Error& error) {
    const ErrcInfo& row = info(error.errc);
    return ErrorMessage{row.http_status, row.code, std::string(row.status),
                        std::string(row.message), error.detail};
}

std::string ErrorMessage::to_json() const {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.StartObject();
    writer.Key("code");
    writer.Int(code);
    writer.Key("status");
    writer.String(status.data(), static_cast<rapidjson::SizeType>(status.size()));
    writer.Key("message");
    writer.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
    writer.Key("detailMsg");
    writer.String(detail_msg.data(), static_cast<rapidjson::SizeType>(detail_msg.size()));
    writer.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace gateway
