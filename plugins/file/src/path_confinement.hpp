#pragma once
// Keeping rendered paths of the file sink inside the directory its template fixes.
#include <optional>
#include <string>
#include <string_view>

namespace sluice::file {

/**
 * The directory part of template text before its first field reference ("logs/" of
 * "logs/{tenant}/access.log"; "" when a reference comes before any '/').
 */
std::string literal_dir_prefix(const std::string& text);

/**
 * Why @p rendered, a path rendered from a template whose fixed directory is @p prefix
 * (literal_dir_prefix()), would leave that directory; nullopt when it stays inside.
 * Refused: a NUL byte, a part after the prefix that is absolute or has a `..` component,
 * or a path that does not start with the prefix. Field values come from events, so a
 * `{"tenant": "../../etc/x"}` must not choose where the sink appends.
 */
std::optional<std::string> path_escape(std::string_view prefix, std::string_view rendered);

}  // namespace sluice::file
