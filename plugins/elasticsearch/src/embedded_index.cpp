// The embedded search index (see embedded_index.hpp).
#include "embedded_index.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "increment_script.hpp"
#include "text_analysis.hpp"

namespace sluice::elasticsearch {
namespace {

constexpr Xapian::valueno kVisitsSlot = 0;
constexpr Xapian::valueno kSeqSlot = 1;
constexpr Xapian::valueno kIdSlot = 2;
constexpr Xapian::valueno kLengthSlot[2] = {3, 4};  // words in the title, in the description
constexpr const char* kFieldStatsKey = "sluice.field_stats";
constexpr float kK1 = 1.2f;  // Lucene's BM25 defaults (Elasticsearch's and OpenSearch's)
constexpr float kB = 0.75f;
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

// Lucene stores a field's length in one byte (SmallFloat.intToByte4): exact below 24, then four
// significant bits. BM25 reads the rounded length back, so the embedded index rounds it the same way.
int int4_of(std::uint64_t i) {
  const int bits = 64 - std::countl_zero(i);
  if (bits < 4) return static_cast<int>(i);
  const int shift = bits - 4;
  return (static_cast<int>(i >> shift) & 0x07) | ((shift + 1) << 3);
}
std::uint64_t long_of_int4(int i) {
  const std::uint64_t bits = static_cast<std::uint64_t>(i & 0x07);
  const int shift = (i >> 3) - 1;
  return shift == -1 ? bits : (bits | 0x08) << shift;
}
constexpr int kFreeLengths = 24;  // 255 - int4_of(INT32_MAX)
int length_byte(std::uint64_t length) {
  return length < kFreeLengths ? static_cast<int>(length) : kFreeLengths + int4_of(length - kFreeLengths);
}
double length_of_byte(int b) {
  return static_cast<double>(b < kFreeLengths ? static_cast<std::uint64_t>(b)
                                              : kFreeLengths + long_of_int4(b - kFreeLengths));
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
  std::istringstream stats(db_.get_metadata(kFieldStatsKey));
  if (!(stats >> stats_[0].docs >> stats_[0].length >> stats_[1].docs >> stats_[1].length)) {
    stats_ = {};
    if (db_.get_doccount() > 0) rebuild_field_stats();
  }
}

void EmbeddedIndex::rebuild_field_stats() {
  std::vector<Xapian::docid> ids;
  for (auto p = db_.postlist_begin(""); p != db_.postlist_end(""); ++p) ids.push_back(*p);
  for (const Xapian::docid id : ids) {
    Xapian::Document d = db_.get_document(id);
    Json doc;
    if (!parse_json(d.get_data(), doc)) doc = Json::object();
    const char* fields[2] = {"title", "description"};
    for (int f = 0; f < 2; ++f) {
      const double n = static_cast<double>(terms_of(text_field(doc, fields[f])).size());
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
  const char* fields[2] = {"title", "description"};
  const char* prefixes[2] = {kTitlePrefix, kDescriptionPrefix};
  for (int f = 0; f < 2; ++f) {
    const std::vector<std::string> words = terms_of(text_field(doc, fields[f]));
    for (const std::string& w : words) d.add_term(term(prefixes[f], w));
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

std::vector<std::pair<double, Xapian::docid>> EmbeddedIndex::bm25(
    const std::vector<std::string>& words) const {
  // Dense per-document arrays (docids are small integers): a word's term score in each field, in
  // float as Lucene computes it, and the sum over the words.
  const std::size_t last = db_.get_lastdocid() + 1;
  std::vector<double> total(last, 0.0);
  std::vector<char> matched(last, 0);
  std::vector<Xapian::docid> docs;  // every match, in the order found
  std::array<std::vector<float>, 2> part{std::vector<float>(last, 0.0f), std::vector<float>(last, 0.0f)};
  std::vector<Xapian::docid> touched;  // the documents of this word
  const char* prefixes[2] = {kTitlePrefix, kDescriptionPrefix};
  // Elasticsearch's and OpenSearch's BM25 is Lucene's LegacyBM25Similarity: the boost times k1 + 1.
  const float boosts[2] = {static_cast<float>(kTitleBoost) * (kK1 + 1), kK1 + 1};
  std::array<std::array<float, 256>, 2> norm_inverse{};
  for (int f = 0; f < 2; ++f) {
    const float avgdl = stats_[f].docs > 0 ? static_cast<float>(stats_[f].length / stats_[f].docs) : 1.0f;
    for (int i = 0; i < 256; ++i)
      norm_inverse[f][i] = 1.0f / (kK1 * ((1 - kB) + kB * static_cast<float>(length_of_byte(i)) / avgdl));
  }
  for (const std::string& word : words) {
    touched.clear();
    for (int f = 0; f < 2; ++f) {
      const FieldStats& st = stats_[f];
      const std::string t = term(prefixes[f], word);
      const double df = st.docs > 0 ? db_.get_termfreq(t) : 0;
      if (df == 0) continue;
      const float weight = boosts[f] * static_cast<float>(std::log(1 + (st.docs - df + 0.5) / (df + 0.5)));
      Xapian::ValueIterator len = db_.valuestream_begin(kLengthSlot[f]);
      const Xapian::ValueIterator len_end = db_.valuestream_end(kLengthSlot[f]);
      for (Xapian::PostingIterator p = db_.postlist_begin(t); p != db_.postlist_end(t); ++p) {
        const Xapian::docid d = *p;
        std::uint64_t length = 0;
        if (len != len_end) len.skip_to(d);
        if (len != len_end && len.get_docid() == d)
          length = static_cast<std::uint64_t>(Xapian::sortable_unserialise(*len));
        const float freq = static_cast<float>(p.get_wdf());
        if (part[0][d] == 0 && part[1][d] == 0) touched.push_back(d);
        part[static_cast<std::size_t>(f)][d] =
            weight - weight / (1.0f + freq * norm_inverse[f][static_cast<std::size_t>(length_byte(length))]);
      }
    }
    // The word: a dis_max with tie_breaker 1 over the fields (simple_query_string's most_fields),
    // a float; the words: a bool of should clauses, summed in double.
    for (const Xapian::docid d : touched) {
      total[d] += static_cast<float>(static_cast<double>(part[0][d]) + part[1][d]);
      part[0][d] = part[1][d] = 0;
      if (!matched[d]) {
        matched[d] = 1;
        docs.push_back(d);
      }
    }
  }
  std::vector<std::pair<double, Xapian::docid>> out;
  out.reserve(docs.size());
  for (const Xapian::docid d : docs) out.emplace_back(static_cast<float>(total[d]), d);
  return out;
}

/** The number in value @p slot of each of @p docids (ascending), @p missing where there is none. */
std::vector<double> EmbeddedIndex::values_of(const std::vector<Xapian::docid>& docids, Xapian::valueno slot,
                                             double missing) const {
  std::vector<double> out(docids.size(), missing);
  Xapian::ValueIterator v = db_.valuestream_begin(slot);
  const Xapian::ValueIterator end = db_.valuestream_end(slot);
  for (std::size_t i = 0; i < docids.size() && v != end; ++i) {
    v.skip_to(docids[i]);
    if (v != end && v.get_docid() == docids[i]) out[i] = Xapian::sortable_unserialise(*v);
  }
  return out;
}

SearchResult EmbeddedIndex::search(const SearchRequest& request) const {
  return xapian_call(name_, [&] {
    const std::vector<std::string> words = terms_of(request.text);
    const std::size_t from = std::min(request.from, kMaxResultWindow);
    const std::size_t size = std::min(request.size, kMaxResultWindow - from);

    std::lock_guard lock(mu_);
    // (score, docid) of every match: BM25 of the words, or 1 for every document when there are
    // none (ES match_all).
    std::vector<std::pair<double, Xapian::docid>> scored;
    if (words.empty()) {
      scored.reserve(db_.get_doccount());
      for (auto p = db_.postlist_begin(""); p != db_.postlist_end(""); ++p) scored.emplace_back(1.0, *p);
    } else {
      scored = bm25(words);
    }
    // (score, docid, key): the key orders hits (the score, or the order of writes for `newest`).
    std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    std::vector<Xapian::docid> docids;
    docids.reserve(scored.size());
    for (const auto& s : scored) docids.push_back(s.second);
    std::vector<double> keys;
    if (request.sort == SearchSort::Hot) {
      // relevance × log10(1 + visits), as ES function_score with field_value_factor `log1p`.
      keys = values_of(docids, kVisitsSlot, request.visits_missing);
      for (std::size_t i = 0; i < scored.size(); ++i)
        keys[i] = scored[i].first =
            static_cast<float>(scored[i].first * std::log10(1.0 + std::max(keys[i], 0.0)));
    } else if (request.sort == SearchSort::Newest) {
      keys = values_of(docids, kSeqSlot, 0);
    }
    std::vector<std::tuple<double, Xapian::docid, double>> ranked;
    ranked.reserve(scored.size());
    for (std::size_t i = 0; i < scored.size(); ++i)
      ranked.emplace_back(scored[i].first, scored[i].second, keys.empty() ? scored[i].first : keys[i]);
    const std::size_t end = std::min(ranked.size(), from + size);
    const auto better = [](const auto& a, const auto& b) {
      return std::get<2>(a) != std::get<2>(b) ? std::get<2>(a) > std::get<2>(b)
                                              : std::get<1>(a) < std::get<1>(b);
    };
    if (from < end)
      std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(end), ranked.end(),
                        better);
    SearchResult result;
    result.total = ranked.size();
    std::vector<std::pair<double, Xapian::Document>> page;
    for (std::size_t i = from; i < end; ++i)
      page.emplace_back(std::get<0>(ranked[i]), db_.get_document(std::get<1>(ranked[i])));
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
