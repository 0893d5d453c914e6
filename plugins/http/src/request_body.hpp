#pragma once
// Turning a request body into events: the body modes of the `http` source.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/event.hpp>
#include <sluice/template.hpp>

namespace sluice::http_source {

/** How a route reads its request body. */
enum class BodyMode {
  Json,       ///< one JSON object: one event
  JsonArray,  ///< a JSON array of objects (or one object): one event each
  Ndjson,     ///< one JSON object per line: one event each
  None,       ///< no body: one event from the request alone
};

/** Parses "json", "json_array", "ndjson", "none". */
std::optional<BodyMode> parse_body_mode(std::string_view text);

/**
 * Splits @p body into JSON objects per @p mode. On success returns true and
 * fills @p out (one object per event, in order); otherwise returns false with
 * @p error saying what is wrong and @p out left empty: a request with one bad
 * part emits nothing. Every event must be a JSON object.
 */
bool parse_objects(BodyMode mode, const std::string& body, std::vector<Json>& out, std::string& error);

/**
 * True when @p body is exactly one JSON object; otherwise @p error says why. The
 * pass-through path calls it once Event::validate() refused the body, for the message.
 */
bool is_single_object(const std::string& body, std::string& error);

/**
 * True when every event of @p batch has each of @p fields, present and neither null nor an empty
 * string; otherwise @p error names the first field missing (and which event, when there are several).
 */
bool has_required(const Batch& batch, const std::vector<FieldPath>& fields, std::string& error);

/** Content-Type check for routes with a body: JSON types, NDJSON types, or none at all. */
bool content_type_allowed(BodyMode mode, const std::string& content_type);

/** Compares in time that depends only on the lengths, not on where the texts differ. */
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace sluice::http_source
