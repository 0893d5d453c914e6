#pragma once
// Reading one field of a JSON payload without building a DOM.
//
// Most events are small JSON objects of which a stage reads one or two
// fields (a filter condition, the two columns of an access log). Parsing them
// into nlohmann::json costs an allocation per member and per string, made on
// the source thread and freed on a sink thread. The scanner instead walks the
// text, checks that the whole document is JSON, and returns the text of the
// value at a path.
//
// It is conservative: it answers Found or Missing only for documents it is
// sure nlohmann::json parses to the same thing, and Unsure for everything
// else (invalid JSON, a byte-order mark, escapes in keys, \u surrogates,
// numbers out of range, deep nesting). Callers then use the DOM, which gives
// the definitive answer and error message, so behaviour never differs.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/event.hpp"

namespace sluice::detail {

enum class Scan { Found, Missing, Unsure };

/** Payloads larger than this are parsed once into the DOM instead of scanned per reference. */
constexpr std::size_t kScanMaxBytes = 2048;

/** True when @p text is a JSON document the scanner is sure of (see above). */
bool scan_valid(std::string_view text);

/**
 * Finds the value at @p parts (object keys; array indexes as decimal text) in
 * @p text, as walking the parsed document would. Found sets @p value to the
 * value's text; Missing means the document is valid and the path leads
 * nowhere.
 */
Scan scan_path(std::string_view text, const std::vector<std::string>& parts, std::string_view& value);

/** The value text from scan_path() as nlohmann::json would parse it. */
Json scanned_to_json(std::string_view value);

/**
 * Appends the value text from scan_path() as FieldPath::append_text() does:
 * strings raw, scalars as JSON, null as nothing. Returns false when it cannot
 * do so without the DOM (then nothing was appended).
 */
bool append_scanned(std::string_view value, std::string& out);

}  // namespace sluice::detail
