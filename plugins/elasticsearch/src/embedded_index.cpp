// The embedded search index (see embedded_index.hpp).
#include "embedded_index.hpp"

#include <filesystem>
#include <map>
#include <sstream>
#include <stdexcept>

#include "embedded_layout.hpp"
#include "embedded_search.hpp"
#include "increment_script.hpp"
#include "text_analysis.hpp"

namespace sluice::elasticsearch {

using namespace embedded;

namespace {

std::string dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

/** Adds two JSON numbers, keeping integers integers. */
Json add_numbers(const Json& a, const Json& b) {
  if (a.is_number_integer() && b.is_number_integer()) return a.get<std::int64_t>() + b.get<std::int64_t>();
  return a.get<double>() + b.get<double>();
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
  std::istringstream stats(db_.get_metadata(kFieldStatsKey));
  if (!(stats >> stats_[0].docs >> stats_[0].length >> stats_[1].docs >> stats_[1].length)) {
    stats_ = {};
    if (db_.get_doccount() > 0) rebuild_field_stats();
  }
  committed_revision_ = db_.get_revision();
}

void EmbeddedIndex::rebuild_field_stats() {
  std::vector<Xapian::docid> ids;
  for (auto p = db_.postlist_begin(""); p != db_.postlist_end(""); ++p) ids.push_back(*p);
  for (const Xapian::docid id : ids) {
    Xapian::Document d = db_.get_document(id);
    Json doc;
    if (!parse_json(d.get_data(), doc)) doc = Json::object();
    for (int f = 0; f < 2; ++f) {
      const double n = static_cast<double>(terms_of(text_field(doc, kFieldNames[f])).size());
      d.add_value(kLengthSlot[f], Xapian::sortable_serialise(n));
      stats_[f].docs += n > 0 ? 1 : 0;
      stats_[f].length += n;
    }
    db_.replace_document(id, d);
  }
  dirty_ = true;
  commit_stats_and_data();
}

void EmbeddedIndex::forget_lengths(Xapian::docid docid) {
  const Xapian::Document old = db_.get_document(docid);
  for (int f = 0; f < 2; ++f) {
    const std::string v = old.get_value(kLengthSlot[f]);
    const double n = v.empty() ? 0 : Xapian::sortable_unserialise(v);
    stats_[f].docs -= n > 0 ? 1 : 0;
    stats_[f].length -= n;
  }
}

void EmbeddedIndex::commit_stats_and_data() {
  std::ostringstream stats;
  stats.precision(17);
  stats << stats_[0].docs << ' ' << stats_[0].length << ' ' << stats_[1].docs << ' ' << stats_[1].length;
  db_.set_metadata(kFieldStatsKey, stats.str());
  db_.commit();  // fsyncs (no DB_NO_SYNC): what returns here survives kill -9 and power loss
  dirty_ = false;
  committed_revision_ = db_.get_revision();  // the readers of searches reopen at it
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
  for (int f = 0; f < 2; ++f) {
    const std::vector<std::string> words = terms_of(text_field(doc, kFieldNames[f]));
    for (const std::string& w : words) d.add_term(term(kFieldPrefixes[f], w));
    d.add_value(kLengthSlot[f], Xapian::sortable_serialise(static_cast<double>(words.size())));
    stats_[f].docs += words.empty() ? 0 : 1;
    stats_[f].length += static_cast<double>(words.size());
  }
  const std::string t = id_term(id);
  if (Xapian::PostingIterator p = db_.postlist_begin(t); p != db_.postlist_end(t)) forget_lengths(*p);
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
    const std::string t = id_term(id);
    Xapian::PostingIterator p = db_.postlist_begin(t);
    if (p == db_.postlist_end(t)) return IndexResult::Noop;
    forget_lengths(*p);
    db_.delete_document(t);
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
    if (dirty_) commit_stats_and_data();
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

}  // namespace sluice::elasticsearch
