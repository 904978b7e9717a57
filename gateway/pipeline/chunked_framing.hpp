#pragma once

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/fields.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace gateway {

/// Checks a chunk's extensions (what follows its chunk-size on the size line, as Beast hands
/// them to on_chunk_header). Beast checks their shape but lets a quoted-string hold any byte;
/// RFC 9112 7.1.1 allows HTAB, SP, visible ASCII and obs-text there, and nothing else: a CR, LF,
/// NUL or DEL is how a request is smuggled past a backend that reads the line differently.
std::optional<Error> check_chunk_extensions(std::string_view extensions);

/// The refusal for a chunked body whose parse needed more than `bound` buffered bytes at once:
/// only a chunk-size line or the trailer section can (chunk data is consumed as it comes), and
/// `buffered`, what was waiting unparsed, tells which: 431 for trailer fields, 400 for a line.
Error chunked_overflow_error(std::string_view buffered, std::size_t bound);

/// The head's fields, by identity (Beast's field nodes stay where they are until erased), so
/// that trailer fields Beast merges into them later can be told apart.
class HeadFields {
public:
    explicit HeadFields(const boost::beast::http::fields& fields);

    /// Drops every field of `fields` that was not in the head: the trailers of a chunked body,
    /// which Beast inserts next to same-named head fields. The gateway re-frames bodies with a
    /// Content-Length, and RFC 9110 6.5.1 forbids merging trailers into the header section:
    /// forwarded, a trailer `x-auth-roles` or `Host` would reach the backend unchecked.
    /// Answers how many were dropped.
    std::size_t drop_others(boost::beast::http::fields& fields) const;

private:
    std::vector<const void*> nodes_;  // sorted
};

/// How many fields `fields` holds (Beast keeps no count).
std::size_t count_fields(const boost::beast::http::fields& fields) noexcept;

/// Checks each chunk's extensions as Beast parses a chunked body (check_chunk_extensions). Beast
/// keeps a reference to the callback: the check must outlive the parse. A refused chunk stops
/// the parse with bad_chunk_extension, and refusal() says why.
class ChunkExtensionCheck {
public:
    ChunkExtensionCheck()
        : callback_([this](std::uint64_t, boost::beast::string_view extensions,
                           boost::system::error_code& ec) {
              refusal_ = check_chunk_extensions({extensions.data(), extensions.size()});
              if (refusal_) ec = boost::beast::http::error::bad_chunk_extension;
          }) {}
    ChunkExtensionCheck(const ChunkExtensionCheck&) = delete;
    ChunkExtensionCheck& operator=(const ChunkExtensionCheck&) = delete;

    template <class Parser>
    void attach(Parser& parser) {
        parser.on_chunk_header(callback_);
    }
    const std::optional<Error>& refusal() const noexcept { return refusal_; }

private:
    std::optional<Error> refusal_;
    std::function<void(std::uint64_t, boost::beast::string_view, boost::system::error_code&)>
        callback_;
};

}  // namespace gateway
