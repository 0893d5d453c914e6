// The embedded index's searches (see embedded_index.hpp): Lucene's BM25 over Xapian's postings,
// on the writer while writes are uncommitted, otherwise on a pool of readers that search in
// parallel, each with the in-memory Snapshot of its revision.
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <tuple>

#include "embedded_layout.hpp"
#include "embedded_search.hpp"
#include "text_analysis.hpp"

namespace sluice::elasticsearch {

using namespace embedded;

namespace {

constexpr float kK1 = 1.2f;  // Lucene's BM25 defaults (Elasticsearch's and OpenSearch's)
constexpr float kB = 0.75f;
constexpr std::size_t kMaxIdleReaders = 16;
constexpr int kReaderAttempts = 3;  // a reader overtaken by two commits during a search starts again

using NormTable = std::array<std::array<float, 256>, 2>;

/** Per field, per length byte, BM25's 1 / (k1 × (1 − b + b × length / average length)), in float. */
template <typename Stats>
NormTable norm_table(const Stats& stats) {
  NormTable t{};
  for (int f = 0; f < 2; ++f) {
    const float avgdl = stats[f].docs > 0 ? static_cast<float>(stats[f].length / stats[f].docs) : 1.0f;
    for (int i = 0; i < 256; ++i)
      t[f][i] = 1.0f / (kK1 * ((1 - kB) + kB * static_cast<float>(length_of_byte(i)) / avgdl));
  }
  return t;
}

/**
 * A search thread's dense per-document arrays (docids are small integers), kept between its
 * searches: only the entries a search touched are cleared after it, not the whole index's.
 */
struct Scratch {
  std::vector<double> total;               ///< the sum over the words
  std::vector<char> matched;               ///< in `docs` already
  std::array<std::vector<float>, 2> part;  ///< a word's term score in each field
  std::vector<Xapian::docid> touched;      ///< the documents of the current word
  std::vector<Xapian::docid> docs;         ///< every match, in the order found
  bool clean = true;                       ///< false while a search (which may throw) uses it

  void prepare(std::size_t last) {
    if (!clean) {  // the last search threw midway
      std::fill(total.begin(), total.end(), 0.0);
      std::fill(matched.begin(), matched.end(), 0);
      for (auto& p : part) std::fill(p.begin(), p.end(), 0.0f);
    }
    if (total.size() < last) {
      total.resize(last, 0.0);
      matched.resize(last, 0);
      for (auto& p : part) p.resize(last, 0.0f);
    }
    touched.clear();
    docs.clear();
    clean = false;
  }
};

}  // namespace

EmbeddedIndex::~EmbeddedIndex() = default;

/**
 * (score, docid) of every document of @p db matching @p words, as Lucene's BM25 scores it, with the
 * field lengths of @p snap (or, without one, of @p db's value streams) and the statistics @p stats.
 */
static std::vector<std::pair<double, Xapian::docid>> bm25(const Xapian::Database& db,
                                                          const EmbeddedIndex::Snapshot* snap,
                                                          const NormTable& norm_inverse, double docs_in[2],
                                                          const std::vector<std::string>& words) {
  thread_local Scratch s;
  s.prepare(static_cast<std::size_t>(db.get_lastdocid()) + 1);
  // Elasticsearch's and OpenSearch's BM25 is Lucene's LegacyBM25Similarity: the boost times k1 + 1.
  const float boosts[2] = {static_cast<float>(EmbeddedIndex::kTitleBoost) * (kK1 + 1), kK1 + 1};
  for (const std::string& word : words) {
    s.touched.clear();
    for (int f = 0; f < 2; ++f) {
      const std::string t = term(kFieldPrefixes[f], word);
      const double df = docs_in[f] > 0 ? db.get_termfreq(t) : 0;
      if (df == 0) continue;
      const float weight = boosts[f] * static_cast<float>(std::log(1 + (docs_in[f] - df + 0.5) / (df + 0.5)));
      const std::vector<std::uint8_t>* lengths =
          snap ? &snap->length_byte[static_cast<std::size_t>(f)] : nullptr;
      const std::array<float, 256>& norm = norm_inverse[static_cast<std::size_t>(f)];
      std::vector<float>& part = s.part[static_cast<std::size_t>(f)];
      Xapian::ValueIterator len, len_end;
      if (!lengths) {
        len = db.valuestream_begin(kLengthSlot[f]);
        len_end = db.valuestream_end(kLengthSlot[f]);
      }
      for (Xapian::PostingIterator p = db.postlist_begin(t); p != db.postlist_end(t); ++p) {
        const Xapian::docid d = *p;
        int length_b = 0;
        if (lengths) {
          if (d < lengths->size()) length_b = (*lengths)[d];
        } else {
          if (len != len_end) len.skip_to(d);
          if (len != len_end && len.get_docid() == d)
            length_b = length_byte(static_cast<std::uint64_t>(Xapian::sortable_unserialise(*len)));
        }
        const float freq = static_cast<float>(p.get_wdf());
        if (s.part[0][d] == 0 && s.part[1][d] == 0) s.touched.push_back(d);
        part[d] = weight - weight / (1.0f + freq * norm[static_cast<std::size_t>(length_b)]);
      }
    }
    // The word: a dis_max with tie_breaker 1 over the fields (simple_query_string's most_fields),
    // a float; the words: a bool of should clauses, summed in double.
    for (const Xapian::docid d : s.touched) {
      s.total[d] += static_cast<float>(static_cast<double>(s.part[0][d]) + s.part[1][d]);
      s.part[0][d] = s.part[1][d] = 0;
      if (!s.matched[d]) {
        s.matched[d] = 1;
        s.docs.push_back(d);
      }
    }
  }
  std::vector<std::pair<double, Xapian::docid>> out;
  out.reserve(s.docs.size());
  for (const Xapian::docid d : s.docs) {
    out.emplace_back(static_cast<float>(s.total[d]), d);
    s.total[d] = 0;
    s.matched[d] = 0;
  }
  s.clean = true;
  return out;
}

/** The number in value @p slot of each of @p docids (ascending), @p missing where there is none. */
static std::vector<double> values_of(const Xapian::Database& db, const EmbeddedIndex::Snapshot* snap,
                                     const std::vector<Xapian::docid>& docids, Xapian::valueno slot,
                                     double missing) {
  std::vector<double> out(docids.size(), missing);
  if (snap) {
    const std::vector<double>& column = slot == kVisitsSlot ? snap->visits : snap->seq;
    for (std::size_t i = 0; i < docids.size(); ++i)
      if (docids[i] < column.size() && !std::isnan(column[docids[i]])) out[i] = column[docids[i]];
    return out;
  }
  Xapian::ValueIterator v = db.valuestream_begin(slot);
  const Xapian::ValueIterator end = db.valuestream_end(slot);
  for (std::size_t i = 0; i < docids.size() && v != end; ++i) {
    v.skip_to(docids[i]);
    if (v != end && v.get_docid() == docids[i]) out[i] = Xapian::sortable_unserialise(*v);
  }
  return out;
}

SearchResult EmbeddedIndex::search_in(const Xapian::Database& db, const Snapshot* snap,
                                      const FieldStatsPair& stats, const SearchRequest& request,
                                      const std::vector<std::string>& words) const {
  const std::size_t from = std::min(request.from, kMaxResultWindow);
  const std::size_t size = std::min(request.size, kMaxResultWindow - from);
  // (score, docid) of every match: BM25 of the words, or 1 for every document when there are
  // none (ES match_all). Every match is scored: the answer counts them all (track_total_hits).
  std::vector<std::pair<double, Xapian::docid>> scored;
  if (words.empty()) {
    scored.reserve(db.get_doccount());
    for (auto p = db.postlist_begin(""); p != db.postlist_end(""); ++p) scored.emplace_back(1.0, *p);
  } else {
    const NormTable local = snap ? NormTable{} : norm_table(stats);
    double docs_in[2] = {stats[0].docs, stats[1].docs};
    scored = bm25(db, snap, snap ? snap->norm_inverse : local, docs_in, words);
  }
  // (score, docid, key): the key orders hits (the score, or the order of writes for `newest`).
  std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  std::vector<Xapian::docid> docids;
  docids.reserve(scored.size());
  for (const auto& s : scored) docids.push_back(s.second);
  std::vector<double> keys;
  if (request.sort == SearchSort::Hot) {
    // relevance × log10(1 + visits), as ES function_score with field_value_factor `log1p`.
    keys = values_of(db, snap, docids, kVisitsSlot, request.visits_missing);
    for (std::size_t i = 0; i < scored.size(); ++i)
      keys[i] = scored[i].first =
          static_cast<float>(scored[i].first * std::log10(1.0 + std::max(keys[i], 0.0)));
  } else if (request.sort == SearchSort::Newest) {
    keys = values_of(db, snap, docids, kSeqSlot, 0);
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
  // Only the page's documents are read, parsed and highlighted.
  for (std::size_t i = from; i < end; ++i) {
    const Xapian::Document d = db.get_document(std::get<1>(ranked[i]));
    SearchHit hit;
    hit.id = d.get_value(kIdSlot);
    hit.score = std::get<0>(ranked[i]);
    if (!parse_json(d.get_data(), hit.source)) hit.source = Json::object();
    hit.title_highlight =
        highlight(text_field(hit.source, "title"), words, request.pre_tag, request.post_tag);
    hit.snippet_highlight = highlight(text_field(hit.source, "description"), words, request.pre_tag,
                                      request.post_tag, kSnippetBytes);
    result.hits.push_back(std::move(hit));
  }
  return result;
}

std::unique_ptr<EmbeddedIndex::Reader> EmbeddedIndex::take_reader() const {
  {
    std::lock_guard lock(readers_mu_);
    if (!idle_readers_.empty()) {
      std::unique_ptr<Reader> r = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return r;
    }
  }
  return std::make_unique<Reader>(path_);
}

void EmbeddedIndex::give_back(std::unique_ptr<Reader> reader) const {
  std::lock_guard lock(readers_mu_);
  if (idle_readers_.size() < kMaxIdleReaders) idle_readers_.push_back(std::move(reader));
}

std::shared_ptr<const EmbeddedIndex::Snapshot> EmbeddedIndex::snapshot_of(Reader& reader) const {
  const Xapian::rev revision = reader.db.get_revision();
  if (reader.snapshot && reader.snapshot->revision == revision) return reader.snapshot;
  std::lock_guard lock(snapshot_mu_);
  if (snapshot_ && snapshot_->revision == revision) return reader.snapshot = snapshot_;
  auto s = std::make_shared<Snapshot>();
  s->revision = revision;
  std::istringstream stats(reader.db.get_metadata(kFieldStatsKey));
  if (!(stats >> s->stats[0].docs >> s->stats[0].length >> s->stats[1].docs >> s->stats[1].length))
    s->stats = {};
  s->norm_inverse = norm_table(s->stats);
  const std::size_t last = static_cast<std::size_t>(reader.db.get_lastdocid()) + 1;
  for (int f = 0; f < 2; ++f) {
    std::vector<std::uint8_t>& column = s->length_byte[static_cast<std::size_t>(f)];
    column.assign(last, 0);
    for (auto v = reader.db.valuestream_begin(kLengthSlot[f]); v != reader.db.valuestream_end(kLengthSlot[f]);
         ++v)
      if (v.get_docid() < last)
        column[v.get_docid()] = static_cast<std::uint8_t>(
            length_byte(static_cast<std::uint64_t>(Xapian::sortable_unserialise(*v))));
  }
  const auto fill = [&](std::vector<double>& column, Xapian::valueno slot, double none) {
    column.assign(last, none);
    for (auto v = reader.db.valuestream_begin(slot); v != reader.db.valuestream_end(slot); ++v)
      if (v.get_docid() < last) column[v.get_docid()] = Xapian::sortable_unserialise(*v);
  };
  fill(s->visits, kVisitsSlot, std::numeric_limits<double>::quiet_NaN());
  fill(s->seq, kSeqSlot, 0);
  if (!snapshot_ || snapshot_->revision < revision) snapshot_ = s;
  return reader.snapshot = s;
}

std::optional<SearchResult> EmbeddedIndex::search_committed(const SearchRequest& request,
                                                            const std::vector<std::string>& words,
                                                            Xapian::rev revision) const {
  std::unique_ptr<Reader> reader = take_reader();
  for (int attempt = 0; attempt < kReaderAttempts; ++attempt) {
    try {
      if (reader->db.get_revision() != revision) reader->db.reopen();
      const std::shared_ptr<const Snapshot> snap = snapshot_of(*reader);
      SearchResult result = search_in(reader->db, snap.get(), snap->stats, request, words);
      give_back(std::move(reader));
      return result;
    } catch (const Xapian::DatabaseModifiedError&) {
      // The writer committed twice since this reader's revision and reused its blocks.
      revision = 0;  // reopen at whatever is newest
    }
  }
  return std::nullopt;
}

SearchResult EmbeddedIndex::search(const SearchRequest& request) const {
  return xapian_call(name_, [&] {
    const std::vector<std::string> words = terms_of(request.text);
    Xapian::rev revision = 0;
    {
      std::unique_lock lock(mu_);
      // Uncommitted writes are only in the writer: search there, so that they are found at once.
      if (dirty_) return search_in(db_, nullptr, stats_, request, words);
      revision = committed_revision_;
    }
    if (std::optional<SearchResult> result = search_committed(request, words, revision))
      return std::move(*result);
    std::lock_guard lock(mu_);
    return search_in(db_, nullptr, stats_, request, words);
  });
}

}  // namespace sluice::elasticsearch
