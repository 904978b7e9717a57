#include "pipeline/upstream_answer.hpp"

#include <boost/beast/http/status.hpp>
#include <rapidjson/document.h>

#include <algorithm>
#include <string>

#include "core/text.hpp"

namespace gateway {

bool is_error_message(std::string_view body) {
    rapidjson::Document document;
    document.Parse<rapidjson::kParseValidateEncodingFlag>(body.data(), body.size());
    if (document.HasParseError() || !document.IsObject() || document.MemberCount() != 4) {
        return false;
    }
    const auto has = [&](const char* name, bool integer) {
        const auto it = document.FindMember(name);
        if (it == document.MemberEnd()) return false;
        return integer ? it->value.IsInt() : it->value.IsString();
    };
    return has("code", true) && has("status", false) && has("message", false) &&
           has("detailMsg", false);
}

std::optional<ErrorMessage> normalise_upstream_answer(std::string_view upstream, int status,
                                                      std::string_view reason,
                                                      std::string_view content_type,
                                                      std::string_view body, bool quote_body) {
    if (passes_unchanged(status)) return std::nullopt;
    if (!body.empty() && is_error_message(body)) return std::nullopt;

    const ErrcInfo& row = info(Errc::upstream_error);
    ErrorMessage message;
    message.http_status = status;
    message.code = status * 100 + row.code % 100;
    message.status = std::string(status_name(status));
    message.message = std::string(row.message);
    std::string& detail = message.detail_msg;
    detail = "upstream ";
    detail += upstream;
    detail += " answered ";
    detail += std::to_string(status);
    if (!quote_body) {
        const auto known = boost::beast::http::int_to_status(static_cast<unsigned>(status));
        if (known != boost::beast::http::status::unknown) {
            const auto standard = boost::beast::http::obsolete_reason(known);
            detail += ' ';
            detail.append(standard.data(), standard.size());
        }
        if (body.empty()) {
            detail += " with an empty body";
        } else {
            detail += "; its body is not passed on (the gateway's access log keeps it under this "
                      "request's id)";
        }
        return message;
    }
    const bool printable_reason = std::all_of(reason.begin(), reason.end(), [](char c) {
        return c >= 0x20 && c < 0x7F;
    });
    if (!reason.empty() && printable_reason) {
        detail += ' ';
        detail += reason;
    }
    if (body.empty()) {
        detail += " with an empty body";
        return message;
    }
    detail += " with ";
    // The content type is the upstream's bytes too: quoted like the body, never raw.
    detail += content_type.empty() ? std::string("a") : quoted_excerpt(content_type);
    detail += " body: ";
    detail += quoted_excerpt(body, kUpstreamExcerptBytes);
    return message;
}

}  // namespace gateway
