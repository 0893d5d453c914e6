#pragma once
/**
 * @file search_index.hpp
 * @brief The search-index interface: what a sink writes into an index and what a
 * search page asks of it, whoever serves it (the embedded Xapian index of
 * `hosts: embedded`, or an Elasticsearch client).
 *
 * Header only, no new SDK type changes layout: the plugin ABI is unchanged. An
 * implementation lives in one plugin library and is shared in-process by name
 * through that library's own registry, so no plugin has to dynamic_cast a
 * Resource across library boundaries.
 */
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sluice/event.hpp"

namespace sluice {

/** What one write did, as Elasticsearch's bulk item result would say it. */
enum class IndexResult : std::uint8_t {
  Created,  ///< a new document
  Updated,  ///< an existing document changed
  Deleted,  ///< the document is gone
  Noop,     ///< nothing to do: a replayed guarded increment, a delete of a missing document
  Exists,   ///< create: a document with this id exists (ES: 409, which a sink counts as delivered)
  Missing,  ///< update: no document with this id (ES: 404 document_missing_exception)
};

/** How one search orders its hits. */
enum class SearchSort : std::uint8_t {
  Relevance,  ///< BM25 over title and description, title weighted higher
  Hot,        ///< relevance × log1p(visits + missing), ES function_score / field_value_factor log1p
  Newest,     ///< most recently written first
};

/** One search. */
struct SearchRequest {
  std::string text;  ///< the user's words (any bytes; never a syntax error)
  SearchSort sort = SearchSort::Relevance;
  std::size_t from = 0;  ///< first hit (capped with from + size <= 10,000 as on ES)
  std::size_t size = 10;
  double visits_missing = 0;     ///< value of `visits` for documents without it (ES `missing`)
  std::string pre_tag = "<em>";  ///< highlight markers (text between them is HTML-escaped)
  std::string post_tag = "</em>";
};

/** One hit. */
struct SearchHit {
  std::string id;
  double score = 0;
  Json source;                    ///< the stored document
  std::string title_highlight;    ///< HTML-escaped title with matches marked
  std::string snippet_highlight;  ///< HTML-escaped fragment of the description with matches marked
};

/** One page of hits. */
struct SearchResult {
  std::uint64_t total = 0;  ///< every matching document
  std::vector<SearchHit> hits;
};

/** The guard of a guarded increment (the sink's `guard_key` / `guard_sequence`). */
struct IncrementGuard {
  std::string field;  ///< where the document records the last sequence per key (`sluice_applied`)
  std::string key;
  std::int64_t sequence = 0;
};

/**
 * One named search index. Every method is thread-safe. Writes are visible to
 * searches at once; they are durable only after commit(), which a sink calls
 * before it acknowledges anything. Methods throw std::runtime_error when the
 * store fails (disk full, corruption): a sink then answers Retry.
 */
class SearchIndex {
 public:
  virtual ~SearchIndex() = default;
  /** The index's name. */
  virtual const std::string& name() const = 0;

  /** Stores @p doc (a JSON object) under @p id, replacing any document there. */
  virtual IndexResult index(const std::string& id, const Json& doc) = 0;
  /** Stores @p doc unless @p id exists (then Exists, and nothing changes). */
  virtual IndexResult create(const std::string& id, const Json& doc) = 0;
  /** Merges @p partial's fields into document @p id (Missing when there is none). */
  virtual IndexResult update(const std::string& id, const Json& partial) = 0;
  /** Merges @p doc into document @p id, or stores it when there is none. */
  virtual IndexResult upsert(const std::string& id, const Json& doc) = 0;
  /** Removes document @p id (Noop when there is none). */
  virtual IndexResult remove(const std::string& id) = 0;
  /**
   * Adds @p by (a JSON number) to number field @p field of document @p id (a missing document or field
   * starts at 0). With @p guard: Noop, changing nothing, when the document records a
   * sequence >= guard->sequence for guard->key; otherwise the sequence is recorded with the sum.
   */
  virtual IndexResult increment(const std::string& id, const std::string& field, const Json& by,
                                const std::optional<IncrementGuard>& guard) = 0;
  /** Makes every write so far durable (fsync); returns once it is. */
  virtual void commit() = 0;

  /** The stored document @p id, if any. */
  virtual std::optional<Json> get(const std::string& id) const = 0;
  /** Number of documents. */
  virtual std::uint64_t count() const = 0;
  /** One page of the documents matching @p request. */
  virtual SearchResult search(const SearchRequest& request) const = 0;
};

}  // namespace sluice
