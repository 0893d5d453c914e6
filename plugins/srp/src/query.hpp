#pragma once
// A search request's parameters (`q`, `sort`, `page`, `size`), read from the raw
// query string of /search and /api/search, checked and clamped the same way
// for the page and the JSON API.
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/search_index.hpp>

namespace sluice::srp {

/** The deepest hit Elasticsearch serves (`index.max_result_window`): from + size stays within it. */
inline constexpr std::size_t kMaxResultWindow = 10000;

/** Limits of one request, from the plugin's settings. */
struct QueryLimits {
  std::size_t default_size = 10;
  std::size_t max_size = 100;
  std::size_t max_query_bytes = 1024;
};

/** What a request asks for, once checked and clamped. */
struct SearchParams {
  std::string q;  ///< well-formed UTF-8, at most max_query_bytes
  SearchSort sort = SearchSort::Relevance;
  std::size_t page = 1;  ///< 1-based
  std::size_t size = 10;
  std::vector<std::string> notices;  ///< what was changed and why, shown to the user
};

/**
 * The parameters of a raw query string (`q=macbook+air&sort=hot`): `+` and `%XX` decoded
 * (a malformed escape is kept as written), the last of a repeated name wins.
 */
std::map<std::string, std::string> parse_query_string(std::string_view raw);

/** The query string of a request target (`/search?q=x#f` → `q=x`). */
std::string_view query_of(std::string_view target);

/** `relevant`, `hot`, `newest` → the sort; nullopt for anything else. */
std::optional<SearchSort> parse_sort(std::string_view name);
/** The name of @p sort as the page and the API spell it. */
const char* sort_name(SearchSort sort) noexcept;

/**
 * Checks and clamps: invalid UTF-8 in `q` is replaced (U+FFFD) and a long `q` shortened at a
 * character boundary; a `size` over the maximum and a page past the 10,000th hit are brought
 * back in range, each with a notice. Returns false with @p error (safe to show) for a request
 * that cannot be understood: an unknown sort, a page or size that is not a positive number.
 */
bool parse_search(const std::map<std::string, std::string>& params, const QueryLimits& limits,
                  SearchParams& out, std::string& error);

/** The first hit of @p p's page (from + size <= kMaxResultWindow holds after parse_search). */
inline std::size_t first_hit(const SearchParams& p) {
  return (p.page - 1) * p.size;
}

/** The number of pages @p total hits make at @p size a page, counting only those that can be shown. */
std::size_t page_count(std::uint64_t total, std::size_t size);

/** @p text percent-encoded for a query string value (unreserved bytes kept, the rest %XX). */
std::string url_encode(std::string_view text);

}  // namespace sluice::srp
