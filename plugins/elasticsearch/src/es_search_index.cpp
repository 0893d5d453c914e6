// The SearchIndex of an Elasticsearch / OpenSearch index (see es_search_index.hpp).
#include "es_search_index.hpp"

#include <algorithm>
#include <stdexcept>

#include "embedded_index.hpp"
#include "es_error.hpp"
#include "increment_script.hpp"
#include "text_analysis.hpp"

namespace sluice::elasticsearch {
namespace {

constexpr std::size_t kMaxResultWindow = 10000;  // index.max_result_window
/**
 * Words of one query sent at most: each is a clause per field, and a server refuses a query of
 * more than indices.query.bool.max_clause_count (1,024) clauses with a 400.
 */
constexpr std::size_t kMaxQueryWords = 400;
constexpr const char* kDefaultGuardField = "sluice_applied";

std::string dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

/** The first highlight fragment of @p field in @p hit, if the server gave one. */
std::optional<std::string> fragment(const Json& hit, const char* field) {
  auto h = hit.find("highlight");
  if (h == hit.end() || !h->is_object()) return std::nullopt;
  auto f = h->find(field);
  if (f == h->end() || !f->is_array() || f->empty() || !(*f)[0].is_string()) return std::nullopt;
  return (*f)[0].get<std::string>();
}

/** The `result` of a single-document write answer. */
std::string result_of(const HttpResult& r) {
  Json j;
  if (!parse_json(r.body, j) || !j.is_object()) return {};
  auto it = j.find("result");
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

IndexResult write_result(const HttpResult& r) {
  const std::string result = result_of(r);
  if (result == "created") return IndexResult::Created;
  if (result == "deleted") return IndexResult::Deleted;
  if (result == "noop" || result == "not_found") return IndexResult::Noop;
  return IndexResult::Updated;
}

/** The `error.type` of an answer ("" when there is none). */
std::string error_type(const HttpResult& r) {
  Json j;
  if (!parse_json(r.body, j) || !j.is_object()) return {};
  auto e = j.find("error");
  if (e == j.end() || !e->is_object()) return {};
  auto t = e->find("type");
  return t != e->end() && t->is_string() ? t->get<std::string>() : std::string();
}

bool index_missing(const HttpResult& r) {
  return r.status == 404 && error_type(r) == "index_not_found_exception";
}

}  // namespace

std::string path_segment(const std::string& text) {
  static const char* const hex = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

Json search_body(const SearchRequest& request) {
  // The words the embedded index would match, re-joined: the server's analyzer (standard +
  // asciifolding) reads them back as the same terms, and no character of them is an operator.
  std::vector<std::string> words = terms_of(request.text);
  if (words.size() > kMaxQueryWords) words.resize(kMaxQueryWords);
  Json query;
  if (words.empty()) {
    query = {{"match_all", Json::object()}};
  } else {
    std::string text;
    for (const std::string& w : words) text += (text.empty() ? "" : " ") + w;
    query = {{"simple_query_string",
              {{"query", text},
               {"fields", {"title^2", "description"}},
               {"default_operator", "or"},
               {"flags", "WHITESPACE"},
               {"lenient", true}}}};
  }
  const std::size_t from = std::min(request.from, kMaxResultWindow);
  const std::size_t size = std::min(request.size, kMaxResultWindow - from);
  Json body = {{"from", from}, {"size", size}, {"track_total_hits", true}};
  if (request.sort == SearchSort::Hot) {
    body["query"] = {{"function_score",
                      {{"query", query},
                       {"field_value_factor",
                        {{"field", "visits"}, {"modifier", "log1p"}, {"missing", request.visits_missing}}},
                       {"boost_mode", "multiply"}}}};
  } else {
    body["query"] = query;
  }
  if (request.sort == SearchSort::Newest) {
    body["sort"] = Json::array({{{"_seq_no", "desc"}}, "_score"});
    body["track_scores"] = true;
  }
  body["highlight"] = {
      {"pre_tags", {request.pre_tag}},
      {"post_tags", {request.post_tag}},
      {"encoder", "html"},
      {"fields",
       {{"title", {{"number_of_fragments", 0}}},
        {"description", {{"fragment_size", EmbeddedIndex::kSnippetBytes}, {"number_of_fragments", 1}}}}}};
  return body;
}

SearchResult search_result(const Json& answer, const SearchRequest& request) {
  SearchResult result;
  const Json* hits = nullptr;
  if (auto h = answer.find("hits"); h != answer.end() && h->is_object()) hits = &*h;
  if (!hits) throw std::runtime_error("the search answer has no hits");
  if (auto t = hits->find("total"); t != hits->end()) {
    if (t->is_number_unsigned()) result.total = t->get<std::uint64_t>();
    if (t->is_object() && t->contains("value") && (*t)["value"].is_number_unsigned())
      result.total = (*t)["value"].get<std::uint64_t>();
  }
  const std::vector<std::string> words = terms_of(request.text);
  auto list = hits->find("hits");
  if (list == hits->end() || !list->is_array()) return result;
  for (const Json& h : *list) {
    SearchHit hit;
    if (auto id = h.find("_id"); id != h.end() && id->is_string()) hit.id = id->get<std::string>();
    if (auto score = h.find("_score"); score != h.end() && score->is_number())
      hit.score = score->get<double>();
    if (auto source = h.find("_source"); source != h.end() && source->is_object())
      hit.source = *source;
    else
      hit.source = Json::object();
    // A field without a match has no highlight: then it is shown as the embedded index shows it.
    hit.title_highlight =
        fragment(h, "title")
            .value_or(highlight(text_field(hit.source, "title"), {}, request.pre_tag, request.post_tag));
    hit.snippet_highlight =
        fragment(h, "description")
            .value_or(highlight(text_field(hit.source, "description"), {}, request.pre_tag, request.post_tag,
                                EmbeddedIndex::kSnippetBytes));
    result.hits.push_back(std::move(hit));
  }
  return result;
}

Json increment_body(const std::string& field, const Json& by, const std::optional<IncrementGuard>& guard) {
  Json params = {{"f", field}, {"by", by}, {"gf", guard ? guard->field : std::string(kDefaultGuardField)}};
  if (guard) {
    params["k"] = guard->key;
    params["s"] = guard->sequence;
  }
  return {{"script", {{"source", kIncrementScript}, {"lang", "painless"}, {"params", params}}},
          {"upsert", Json::object()},
          {"scripted_upsert", true}};
}

EsSearchIndex::EsSearchIndex(std::shared_ptr<Client> client, std::string index)
    : client_(std::move(client)), index_(std::move(index)), index_path_("/" + path_segment(index_)) {}

std::string EsSearchIndex::doc_path(const char* api, const std::string& id) const {
  return index_path_ + "/" + api + "/" + path_segment(id);
}

HttpResult EsSearchIndex::call(const std::string& method, const std::string& path, const std::string& body,
                               std::initializer_list<int> also_ok) const {
  HttpResult r = client_->request(method, path, body);
  if (!r.answered)
    throw std::runtime_error("Elasticsearch index " + index_ + ": no host answers (" + r.error + ")");
  if (r.status / 100 != 2 && std::find(also_ok.begin(), also_ok.end(), r.status) == also_ok.end())
    fail(method, path, r);
  return r;
}

void EsSearchIndex::fail(const std::string& method, const std::string& path, const HttpResult& r) const {
  std::string why;
  Json j;
  if (parse_json(r.body, j) && j.is_object() && j.contains("error"))
    why = error_text(j["error"]);
  else
    why = safe_utf8(r.body.substr(0, 300));
  throw std::runtime_error("Elasticsearch index " + index_ + ": " + method + " " + path + " at " + r.host +
                           ": HTTP " + std::to_string(r.status) + (why.empty() ? "" : " " + why));
}

IndexResult EsSearchIndex::index(const std::string& id, const Json& doc) {
  return write_result(call("PUT", doc_path("_doc", id), dump(doc)));
}

IndexResult EsSearchIndex::create(const std::string& id, const Json& doc) {
  const HttpResult r = call("PUT", doc_path("_create", id), dump(doc), {409});
  return r.status == 409 ? IndexResult::Exists : IndexResult::Created;
}

IndexResult EsSearchIndex::update(const std::string& id, const Json& partial) {
  const std::string path = doc_path("_update", id) + "?retry_on_conflict=3";
  const HttpResult r = call("POST", path, dump(Json{{"doc", partial}}), {404});
  if (r.status != 404) return write_result(r);
  if (error_type(r) == "document_missing_exception" || index_missing(r)) return IndexResult::Missing;
  fail("POST", path, r);
}

IndexResult EsSearchIndex::upsert(const std::string& id, const Json& doc) {
  return write_result(call("POST", doc_path("_update", id) + "?retry_on_conflict=3",
                           dump(Json{{"doc", doc}, {"doc_as_upsert", true}})));
}

IndexResult EsSearchIndex::remove(const std::string& id) {
  const HttpResult r = call("DELETE", doc_path("_doc", id), {}, {404});
  if (r.status == 404) return IndexResult::Noop;  // not_found, or no index at all
  return write_result(r);
}

IndexResult EsSearchIndex::increment(const std::string& id, const std::string& field, const Json& by,
                                     const std::optional<IncrementGuard>& guard) {
  if (!by.is_number()) throw std::invalid_argument("increment: the amount is not a number");
  return write_result(
      call("POST", doc_path("_update", id) + "?retry_on_conflict=3", dump(increment_body(field, by, guard))));
}

void EsSearchIndex::commit() {
  call("POST", index_path_ + "/_refresh", {}, {404});
}

std::optional<Json> EsSearchIndex::get(const std::string& id) const {
  const HttpResult r = call("GET", doc_path("_doc", id), {}, {404});
  if (r.status == 404) return std::nullopt;
  Json j;
  if (!parse_json(r.body, j) || !j.is_object() || !j.contains("_source"))
    throw std::runtime_error("Elasticsearch index " + index_ + ": GET of " + id +
                             ": an answer without _source");
  return j["_source"];
}

std::uint64_t EsSearchIndex::count() const {
  const HttpResult r = call("GET", index_path_ + "/_count", {}, {404});
  if (index_missing(r)) return 0;
  if (r.status == 404) fail("GET", index_path_ + "/_count", r);
  Json j;
  if (parse_json(r.body, j) && j.is_object() && j.contains("count") && j["count"].is_number_unsigned())
    return j["count"].get<std::uint64_t>();
  throw std::runtime_error("Elasticsearch index " + index_ + ": _count answered " +
                           safe_utf8(r.body.substr(0, 300)));
}

SearchResult EsSearchIndex::search(const SearchRequest& request) const {
  const HttpResult r = call("POST", index_path_ + "/_search", dump(search_body(request)), {404});
  if (index_missing(r)) return {};
  if (r.status == 404) fail("POST", index_path_ + "/_search", r);
  Json j;
  if (!parse_json(r.body, j) || !j.is_object())
    throw std::runtime_error("Elasticsearch index " + index_ + ": _search answered " +
                             safe_utf8(r.body.substr(0, 300)));
  try {
    return search_result(j, request);
  } catch (const std::exception& e) {
    throw std::runtime_error("Elasticsearch index " + index_ + ": " + e.what());
  }
}

}  // namespace sluice::elasticsearch
