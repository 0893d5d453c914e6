// The search page's page models and answers (see pages.hpp).
#include "pages.hpp"

#include <algorithm>

namespace sluice::srp {
namespace {

const SearchSort kSorts[] = {SearchSort::Relevance, SearchSort::Hot, SearchSort::Newest};
const std::size_t kSizes[] = {10, 25, 50, 100};

const char* sort_label(SearchSort s) {
  switch (s) {
    case SearchSort::Hot:
      return "Hot";
    case SearchSort::Newest:
      return "Newest";
    default:
      return "Relevant";
  }
}

/** A document's text field as text (strings as they are, other scalars as JSON). */
std::string text_of(const Json& doc, const char* name) {
  if (!doc.is_object()) return {};
  auto it = doc.find(name);
  if (it == doc.end() || it->is_null() || it->is_object() || it->is_array()) return {};
  return it->is_string() ? it->get<std::string>() : it->dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json visits_of(const Json& doc) {
  if (doc.is_object())
    if (auto it = doc.find("visits"); it != doc.end() && it->is_number()) return *it;
  return 0;
}

const char* heading_of(int status) {
  switch (status) {
    case 400:
      return "This request cannot be searched";
    case 404:
      return "Not found";
    case 503:
      return "Search is unavailable right now";
    default:
      return "Something went wrong";
  }
}

}  // namespace

std::string search_href(const SearchParams& p, SearchSort sort, std::size_t page, std::size_t size) {
  std::string href = "/search?q=" + url_encode(p.q);
  if (sort != SearchSort::Relevance) href += std::string("&sort=") + sort_name(sort);
  if (page > 1) href += "&page=" + std::to_string(page);
  href += "&size=" + std::to_string(size);
  return href;
}

std::string item_href(const std::string& id) {
  return "/item/" + url_encode(id);
}

Json hit_model(const SearchHit& hit) {
  const std::string title = text_of(hit.source, "title");
  Json h = {{"id", safe_utf8(hit.id)},
            {"href", item_href(hit.id)},
            {"title", safe_utf8(title.empty() ? hit.id : title)},
            {"visits", visits_of(hit.source)},
            {"score", hit.score}};
  // The highlights are HTML already (the index escapes the text and adds the markers).
  h["title_html"] = hit.title_highlight.empty() ? html_escape(safe_utf8(title.empty() ? hit.id : title))
                                                : safe_utf8(hit.title_highlight);
  h["snippet_html"] = safe_utf8(hit.snippet_highlight);
  return h;
}

std::string Pages::render(const char* page, Json model) const {
  const PageTemplate* body = web_->page(page);
  const PageTemplate* layout = web_->page("layout");
  model["css_href"] = web_->asset_url("style.css");
  model["content"] = body ? body->render(model) : std::string();
  return layout ? layout->render(model) : model["content"].get<std::string>();
}

Answer Pages::home(const SearchResult& newest, const SearchResult& hottest, std::uint64_t count) const {
  Json model = {{"title", "Home"}, {"q", ""}, {"count", count}};
  for (auto [key, result] : {std::pair{"newest", &newest}, std::pair{"hottest", &hottest}}) {
    Json list = Json::array();
    for (const SearchHit& hit : result->hits) list.push_back(hit_model(hit));
    model[std::string("has_") + key] = !list.empty();
    model[key] = std::move(list);
  }
  return Answer{200, "text/html; charset=utf-8", render("home", std::move(model)), {}};
}

Answer Pages::results(const SearchParams& p, const SearchResult& result) const {
  Json model = {{"q", p.q}, {"notices", p.notices}};
  if (p.sort != SearchSort::Relevance) model["sort_value"] = sort_name(p.sort);
  if (result.hits.empty() && result.total == 0 && !p.q.empty()) {
    model["title"] = "No results for " + p.q;
    return Answer{200, "text/html; charset=utf-8", render("no_results", std::move(model)), {}};
  }
  const std::size_t pages = std::max<std::size_t>(page_count(result.total, p.size), 1);
  model["title"] = p.q.empty() ? std::string("All listings") : "Results for " + p.q;
  model["total"] = result.total;
  model["total_label"] = result.total == 1 ? "result" : "results";
  model["page"] = p.page;
  model["pages"] = pages;
  model["first"] = first_hit(p) + 1;
  Json sorts = Json::array();
  for (SearchSort s : kSorts)
    sorts.push_back(
        {{"label", sort_label(s)}, {"current", s == p.sort}, {"href", search_href(p, s, 1, p.size)}});
  model["sorts"] = std::move(sorts);
  Json sizes = Json::array();
  for (std::size_t s : kSizes)
    sizes.push_back({{"size", s}, {"current", s == p.size}, {"href", search_href(p, p.sort, 1, s)}});
  model["sizes"] = std::move(sizes);
  if (p.page > 1) model["prev_href"] = search_href(p, p.sort, std::min(p.page - 1, pages), p.size);
  if (p.page < pages) model["next_href"] = search_href(p, p.sort, p.page + 1, p.size);
  Json hits = Json::array();
  for (const SearchHit& hit : result.hits) hits.push_back(hit_model(hit));
  model["hits"] = std::move(hits);
  return Answer{200, "text/html; charset=utf-8", render("results", std::move(model)), {}};
}

Answer Pages::results_json(const SearchParams& p, const SearchResult& result) const {
  Json hits = Json::array();
  for (const SearchHit& hit : result.hits) {
    Json h = hit_model(hit);
    h["source"] = hit.source;
    hits.push_back(std::move(h));
  }
  const Json body = {{"query", p.q},         {"sort", sort_name(p.sort)},
                     {"page", p.page},       {"pages", page_count(result.total, p.size)},
                     {"size", p.size},       {"total", result.total},
                     {"notices", p.notices}, {"hits", std::move(hits)}};
  return Answer{200, "application/json", body.dump(-1, ' ', false, Json::error_handler_t::replace), {}};
}

Answer Pages::item(const std::string& id, const Json& doc) const {
  const std::string title = text_of(doc, "title");
  Json model = {{"id", safe_utf8(id)},
                {"title", safe_utf8(title.empty() ? id : title)},
                {"description", safe_utf8(text_of(doc, "description"))},
                {"visits", visits_of(doc)},
                {"q", ""}};
  Json fields = Json::array();
  if (doc.is_object())
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      const std::string& k = it.key();
      if (k == "title" || k == "description" || k == "visits" || k == "id" || k == "sluice_applied") continue;
      if (it->is_object() || it->is_array() || it->is_null()) continue;
      fields.push_back({{"name", safe_utf8(k)}, {"value", safe_utf8(text_of(doc, k.c_str()))}});
    }
  model["has_fields"] = !fields.empty();
  model["fields"] = std::move(fields);
  return Answer{200, "text/html; charset=utf-8", render("item", std::move(model)), {}};
}

Answer Pages::error(int status, const std::string& message, const std::string& q) const {
  Json model = {{"title", heading_of(status)},
                {"heading", heading_of(status)},
                {"message", safe_utf8(message)},
                {"retry", status == 503},
                {"q", safe_utf8(q)}};
  Answer a{status, "text/html; charset=utf-8", render("error", std::move(model)), {}};
  if (status == 503) a.headers.emplace_back("Retry-After", "5");
  return a;
}

Answer Pages::error_json(int status, const std::string& message) {
  Answer a{status, "application/json", Json{{"error", safe_utf8(message)}}.dump(), {}};
  if (status == 503) a.headers.emplace_back("Retry-After", "5");
  return a;
}

}  // namespace sluice::srp
