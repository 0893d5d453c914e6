// The embedded search index (see embedded_index.hpp).
#include "embedded_index.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "increment_script.hpp"
#include "text_analysis.hpp"

namespace sluice::elasticsearch {
namespace {

constexpr Xapian::valueno kVisitsSlot = 0;
constexpr Xapian::valueno kSeqSlot = 1;
constexpr Xapian::valueno kIdSlot = 2;
constexpr const char* kTitlePrefix = "S";
constexpr const char* kDescriptionPrefix = "XD";
constexpr std::size_t kMaxTermBytes = 240;       // Xapian's glass backend refuses terms over 245 bytes
constexpr std::size_t kMaxResultWindow = 10000;  // as ES index.max_result_window

std::string term(const char* prefix, const std::string& word) {
  std::string t = prefix + word;
  if (t.size() > kMaxTermBytes) {
    t.resize(kMaxTermBytes);
    // Never cut inside a UTF-8 sequence.
    while (!t.empty() && (static_cast<unsigned char>(t.back()) & 0xC0) == 0x80) t.pop_back();
    if (!t.empty() && static_cast<unsigned char>(t.back()) >= 0xC0) t.pop_back();
  }
  return t;
}

std::string id_term(const std::string& id) {
  return "Q" + id;
}

/** The text of field @p name of @p doc: a string, or the strings of an array joined by spaces. */
std::string text_field(const Json& doc, const char* name) {
  auto it = doc.find(name);
  if (it == doc.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  std::string out;
  if (it->is_array())
    for (const Json& v : *it)
      if (v.is_string()) out += (out.empty() ? "" : " ") + v.get<std::string>();
  return out;
}

std::string dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

/** Adds two JSON numbers, keeping integers integers. */
Json add_numbers(const Json& a, const Json& b) {
  if (a.is_number_integer() && b.is_number_integer()) return a.get<std::int64_t>() + b.get<std::int64_t>();
  return a.get<double>() + b.get<double>();
}

/** Runs @p f, turning Xapian's errors (which are no std::exception) into std::runtime_error. */
template <typename F>
auto xapian_call(const std::string& name, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Xapian::Error& e) {
    throw std::runtime_error("embedded search index " + name + ": " + e.get_type() + ": " + e.get_msg());
  }
}

std::mutex registry_mu;
std::map<std::string, std::weak_ptr<EmbeddedIndex>>& registry() {
  static std::map<std::string, std::weak_ptr<EmbeddedIndex>> r;
  return r;
}

}  // namespace

// On a server, the steps of EmbeddedIndex::increment below, in Painless (one source: the server
// compiles it once; the values are params).
const char* const kIncrementScript =
    "def a = ctx._source[params.gf]; boolean apply = true; "
    "if (params.containsKey('k')) { "
    "if (a == null) { a = new HashMap(); ctx._source[params.gf] = a; } "
    "def last = a[params.k]; "
    "if (last != null && last >= params.s) { apply = false; } else { a[params.k] = params.s; } } "
    "if (apply) { def v = ctx._source[params.f]; ctx._source[params.f] = (v == null ? 0 : v) + params.by; } "
    "else { ctx.op = 'none'; }";

std::string embedded_index_path(const std::string& data_dir, const std::string& name) {
  return (std::filesystem::path(data_dir) / "search-index" / name).string();
}

void merge_document(Json& doc, const Json& partial) {
  for (auto it = partial.begin(); it != partial.end(); ++it) {
    auto at = doc.find(it.key());
    if (at != doc.end() && at->is_object() && it->is_object())
      merge_document(*at, *it);
    else
      doc[it.key()] = *it;
  }
}

std::shared_ptr<EmbeddedIndex> EmbeddedIndex::acquire(Logger& log, const std::string& data_dir,
                                                      const std::string& name) {
  const std::string path = embedded_index_path(data_dir, name);
  std::lock_guard lock(registry_mu);
  if (auto existing = registry()[path].lock()) return existing;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec)
    throw std::runtime_error("embedded search index " + name + ": cannot create " + path + ": " +
                             ec.message());
  std::shared_ptr<EmbeddedIndex> index;
  try {
    index = std::make_shared<EmbeddedIndex>(name, path);
  } catch (const Xapian::DatabaseLockError& e) {
    throw std::runtime_error(
        "embedded search index " + name + " at " + path +
        " is in use by another process (it holds the index's lock): two daemons cannot "
        "share one data directory; stop the other one or give this one its own data_dir");
  } catch (const Xapian::Error& e) {
    throw std::runtime_error("embedded search index " + name + " at " + path +
                             " cannot be opened: " + e.get_type() + ": " + e.get_msg());
  }
  registry()[path] = index;
  log.warn("embedded search index ", name, " at ", path, " (", index->count(),
           " documents): it serves this machine only (one process, no replicas); for production, "
           "point `hosts` at an Elasticsearch or OpenSearch cluster");
  return index;
}

EmbeddedIndex::EmbeddedIndex(std::string name, std::string path)
    : name_(std::move(name)), path_(std::move(path)), db_(path_, Xapian::DB_CREATE_OR_OPEN) {
  const std::string top = db_.get_value_upper_bound(kSeqSlot);
  if (!top.empty()) next_seq_ = static_cast<std::uint64_t>(Xapian::sortable_unserialise(top)) + 1;
}

std::optional<Json> EmbeddedIndex::load(const std::string& id) const {
  const std::string t = id_term(id);
  Xapian::PostingIterator p = db_.postlist_begin(t);
  if (p == db_.postlist_end(t)) return std::nullopt;
  Json doc;
  if (!parse_json(db_.get_document(*p).get_data(), doc)) return Json::object();
  return doc;
}

void EmbeddedIndex::store(const std::string& id, const Json& doc) {
  Xapian::Document d;
  d.set_data(dump(doc));
  d.add_boolean_term(id_term(id));
  for (const std::string& w : terms_of(text_field(doc, "title"))) d.add_term(term(kTitlePrefix, w));
  for (const std::string& w : terms_of(text_field(doc, "description")))
    d.add_term(term(kDescriptionPrefix, w));
  if (auto v = doc.find("visits"); v != doc.end() && v->is_number())
    d.add_value(kVisitsSlot, Xapian::sortable_serialise(v->get<double>()));
  d.add_value(kSeqSlot, Xapian::sortable_serialise(static_cast<double>(next_seq_++)));
  d.add_value(kIdSlot, id);
  db_.replace_document(id_term(id), d);
  dirty_ = true;
}

IndexResult EmbeddedIndex::index(const std::string& id, const Json& doc) {
  return xapian_call(name_, [&] {
    std::lock_guard lock(mu_);
    const bool existed = db_.term_exists(id_term(id));
    store(id, doc);
    return existed ? IndexResult::Updated : IndexResult::Created;
  });
}

IndexResult EmbeddedIndex::create(const std::string& id, const Json& doc) {
  return xapian_call(name_, [&] {
    std::lock_guard lock(mu_);
    if (db_.term_exists(id_term(id))) return IndexResult::Exists;
    store(id, doc);
    return IndexResult::Created;
  });
}

IndexResult EmbeddedIndex::update(const std::string& id, const Json& partial) {
  return xapian_call(name_, [&] {
    std::lock_guard lock(mu_);
    std::optional<Json> doc = load(id);
    if (!doc) return IndexResult::Missing;
    Json merged = *doc;
    merge_document(merged, partial);
    if (merged == *doc) return IndexResult::Noop;  // ES detect_noop
    store(id, merged);
    return IndexResult::Updated;
  });
}

IndexResult EmbeddedIndex::upsert(const std::string& id, const Json& doc) {
  return xapian_call(name_, [&] {
    std::lock_guard lock(mu_);
    std::optional<Json> old = load(id);
    if (!old) {
      store(id, doc);
      return IndexResult::Created;
    }
    Json merged = *old;
    merge_document(merged, doc);
    if (merged == *old) return IndexResult::Noop;
    store(id, merged);
    return IndexResult::Updated;
  });
}

IndexResult EmbeddedIndex::remove(const std::string& id) {
  return xapian_call(name_, [&] {
    std::lock_guard lock(mu_);
    if (!db_.term_exists(id_term(id))) return IndexResult::Noop;
    db_.delete_document(id_term(id));
    dirty_ = true;
    return IndexResult::Deleted;
  });
}

IndexResult EmbeddedIndex::increment(const std::string& id, const std::string& field, const Json& by,
                                     const std::optional<IncrementGuard>& guard) {
  return xapian_call(name_, [&] {
    if (!by.is_number()) throw std::invalid_argument("increment: the amount is not a number");
    std::lock_guard lock(mu_);
    std::optional<Json> old = load(id);
    Json doc = old ? *old : Json::object();
    // The same steps as the Painless script the sink sends to a server (kIncrementScript).
    if (guard) {
      Json& applied = doc[guard->field];
      if (!applied.is_object()) applied = Json::object();
      auto last = applied.find(guard->key);
      if (last != applied.end() && last->is_number() &&
          last->get<double>() >= static_cast<double>(guard->sequence))
        return IndexResult::Noop;
      applied[guard->key] = guard->sequence;
    }
    auto v = doc.find(field);
    doc[field] = add_numbers(v != doc.end() && v->is_number() ? *v : Json(0), by);
    store(id, doc);
    return old ? IndexResult::Updated : IndexResult::Created;
  });
}

void EmbeddedIndex::commit() {
  return xapian_call(name_, [&] {
    std::lock_guard lock(mu_);
    if (!dirty_) return;
    db_.commit();  // fsyncs (no DB_NO_SYNC): what returns here survives kill -9 and power loss
    dirty_ = false;
  });
}

std::optional<Json> EmbeddedIndex::get(const std::string& id) const {
  return xapian_call(name_, [&] {
    std::lock_guard lock(mu_);
    return load(id);
  });
}

std::uint64_t EmbeddedIndex::count() const {
  return xapian_call(name_, [&] {
    std::lock_guard lock(mu_);
    return db_.get_doccount();
  });
}

SearchResult EmbeddedIndex::search(const SearchRequest& request) const {
  return xapian_call(name_, [&] {
    const std::vector<std::string> words = terms_of(request.text);
    Xapian::Query query = Xapian::Query::MatchAll;
    if (!words.empty()) {
      std::vector<Xapian::Query> parts;
      for (const std::string& w : words) {
        parts.emplace_back(
            Xapian::Query::OP_OR,
            Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, Xapian::Query(term(kTitlePrefix, w)), kTitleBoost),
            Xapian::Query(term(kDescriptionPrefix, w)));
      }
      query = Xapian::Query(Xapian::Query::OP_OR, parts.begin(), parts.end());
    }
    const std::size_t from = std::min(request.from, kMaxResultWindow);
    const std::size_t size = std::min(request.size, kMaxResultWindow - from);

    std::lock_guard lock(mu_);
    Xapian::Enquire enquire(db_);
    enquire.set_query(query);
    enquire.set_weighting_scheme(Xapian::BM25Weight(1.2, 0, 1, 0.75, 0.5));  // Lucene's k1 and b
    const Xapian::doccount all = db_.get_doccount();
    SearchResult result;
    // (score, document) of the page, in order.
    std::vector<std::pair<double, Xapian::Document>> page;
    if (request.sort == SearchSort::Hot) {
      // relevance × log10(1 + visits), as ES function_score with field_value_factor `log1p` (common log).
      Xapian::MSet mset = enquire.get_mset(0, all, all);
      result.total = mset.get_matches_estimated();
      std::vector<std::tuple<double, Xapian::docid, Xapian::Document>> scored;
      scored.reserve(mset.size());
      for (auto it = mset.begin(); it != mset.end(); ++it) {
        Xapian::Document d = it.get_document();
        const std::string v = d.get_value(kVisitsSlot);
        const double visits = v.empty() ? request.visits_missing : Xapian::sortable_unserialise(v);
        const double relevance = words.empty() ? 1.0 : it.get_weight();
        scored.emplace_back(relevance * std::log10(1.0 + std::max(visits, 0.0)), *it, std::move(d));
      }
      std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
        return std::get<0>(a) != std::get<0>(b) ? std::get<0>(a) > std::get<0>(b)
                                                : std::get<1>(a) < std::get<1>(b);
      });
      for (std::size_t i = from; i < scored.size() && i < from + size; ++i)
        page.emplace_back(std::get<0>(scored[i]), std::move(std::get<2>(scored[i])));
    } else {
      if (request.sort == SearchSort::Newest) enquire.set_sort_by_value_then_relevance(kSeqSlot, true);
      Xapian::MSet mset =
          enquire.get_mset(static_cast<Xapian::doccount>(from), static_cast<Xapian::doccount>(size), all);
      result.total = mset.get_matches_estimated();
      for (auto it = mset.begin(); it != mset.end(); ++it)
        page.emplace_back(words.empty() ? 1.0 : it.get_weight(), it.get_document());
    }
    for (auto& [score, d] : page) {
      SearchHit hit;
      hit.id = d.get_value(kIdSlot);
      hit.score = score;
      if (!parse_json(d.get_data(), hit.source)) hit.source = Json::object();
      hit.title_highlight =
          highlight(text_field(hit.source, "title"), words, request.pre_tag, request.post_tag);
      hit.snippet_highlight = highlight(text_field(hit.source, "description"), words, request.pre_tag,
                                        request.post_tag, kSnippetBytes);
      result.hits.push_back(std::move(hit));
    }
    return result;
  });
}

}  // namespace sluice::elasticsearch
