#pragma once
// The search page's page models (JSON values the templates render) and the
// answers built from them: home, results, no results, item, error, and the
// JSON API's bodies, from the same models.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <sluice/search_index.hpp>

#include "assets.hpp"
#include "query.hpp"

namespace sluice::srp {

/** One answer, before the security and cache headers the source adds to all. */
struct Answer {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/** The link to a search page of @p p with @p sort, @p page and @p size instead of its own. */
std::string search_href(const SearchParams& p, SearchSort sort, std::size_t page, std::size_t size);
/** The link to item @p id. */
std::string item_href(const std::string& id);

/** Renders the pages from one set of web files. Thread-safe. */
class Pages {
 public:
  explicit Pages(std::shared_ptr<const WebFiles> web) : web_(std::move(web)) {}

  /** The home page: the search box, the newest and the hottest listings, the index's size. */
  Answer home(const SearchResult& newest, const SearchResult& hottest, std::uint64_t count) const;
  /** The results of @p p (or the no-results page when there are none). */
  Answer results(const SearchParams& p, const SearchResult& result) const;
  /** The JSON API's answer for the same search. */
  Answer results_json(const SearchParams& p, const SearchResult& result) const;
  /** Listing @p id, stored as @p doc. */
  Answer item(const std::string& id, const Json& doc) const;
  /** An error page: @p status with a heading and a message the user can act on. */
  Answer error(int status, const std::string& message, const std::string& q = {}) const;
  /** The same error as the JSON API gives it: `{"error": message}`. */
  static Answer error_json(int status, const std::string& message);

  const WebFiles& web() const { return *web_; }

 private:
  /** @p page's template rendered with @p model, inside the layout. */
  std::string render(const char* page, Json model) const;
  std::shared_ptr<const WebFiles> web_;
};

/** The model of one hit (also what the JSON API lists). */
Json hit_model(const SearchHit& hit);

}  // namespace sluice::srp
