#pragma once
// The embedded search index of `hosts: embedded`: one Xapian database per
// index name under <data_dir>/search-index/, opened once per process and
// shared by every plugin that names it, locked against other processes.
#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <xapian.h>

#include <sluice/sdk.hpp>
#include <sluice/search_index.hpp>

namespace sluice::elasticsearch {

/** Where the embedded index @p name lives under @p data_dir. */
std::string embedded_index_path(const std::string& data_dir, const std::string& name);

/**
 * A Xapian-backed SearchIndex. Documents are stored whole (their JSON) with the id
 * as a unique term; `title` (terms prefixed `S`) and `description` (`XD`) are
 * analyzed as text_analysis.hpp says; `visits` is a value for the `hot` ranking.
 * Text queries are scored as Lucene's BM25 scores them (k1 = 1.2, b = 0.75, one length and one
 * set of statistics per field, the length rounded as Lucene stores it), so the ranking is the
 * one an Elasticsearch or OpenSearch node gives with the same analysis: Xapian's own BM25 keeps
 * one length for the whole document and another idf. Xapian finds the postings.
 * One mutex serializes every call (Xapian's objects are not thread-safe).
 */
class EmbeddedIndex : public SearchIndex {
 public:
  /** How much more a title match counts than a description match (ES `title^2`). */
  static constexpr double kTitleBoost = 2.0;
  /** Bytes of description a snippet shows. */
  static constexpr std::size_t kSnippetBytes = 160;

  /**
   * The index @p name of @p data_dir, opened (created when missing) by the first caller
   * and shared with every later one while any holds it. Throws std::runtime_error with a
   * clear message when another process holds it (Xapian's lock) or it cannot be opened.
   */
  static std::shared_ptr<EmbeddedIndex> acquire(Logger& log, const std::string& data_dir,
                                                const std::string& name);

  EmbeddedIndex(std::string name, std::string path);
  ~EmbeddedIndex() override;
  EmbeddedIndex(const EmbeddedIndex&) = delete;
  EmbeddedIndex& operator=(const EmbeddedIndex&) = delete;
  const std::string& name() const override { return name_; }
  const std::string& path() const noexcept { return path_; }

  IndexResult index(const std::string& id, const Json& doc) override;
  IndexResult create(const std::string& id, const Json& doc) override;
  IndexResult update(const std::string& id, const Json& partial) override;
  IndexResult upsert(const std::string& id, const Json& doc) override;
  IndexResult remove(const std::string& id) override;
  IndexResult increment(const std::string& id, const std::string& field, const Json& by,
                        const std::optional<IncrementGuard>& guard) override;
  void commit() override;

  std::optional<Json> get(const std::string& id) const override;
  std::uint64_t count() const override;
  SearchResult search(const SearchRequest& request) const override;

  /** What searches of one committed revision read from memory (embedded_search.hpp; internal). */
  struct Snapshot;
  /** A read-only handle of the index for one search at a time (embedded_search.hpp; internal). */
  struct Reader;

 private:
  /** Per field (title, description): documents with a word in it, and words in it in total (Lucene's
   * docCount and sumTotalTermFreq). Kept in the index's metadata with each commit. */
  struct FieldStats {
    double docs = 0;
    double length = 0;
  };
  using FieldStatsPair = std::array<FieldStats, 2>;

  /** The stored JSON of @p id (lock held). */
  std::optional<Json> load(const std::string& id) const;
  /** Writes @p doc as document @p id (lock held). */
  void store(const std::string& id, const Json& doc);
  /** Takes document @p docid's field lengths out of the field statistics (lock held). */
  void forget_lengths(Xapian::docid docid);
  /**
   * One page of @p request on @p db (the writer, lock held, with @p snap null and the live statistics;
   * or a reader with its revision's Snapshot), @p words being the request's terms.
   */
  SearchResult search_in(const Xapian::Database& db, const Snapshot* snap, const FieldStatsPair& stats,
                         const SearchRequest& request, const std::vector<std::string>& words) const;
  /** A search on a reader of the last commit; nullopt when none kept up with the writer (then: the writer).
   */
  std::optional<SearchResult> search_committed(const SearchRequest& request,
                                               const std::vector<std::string>& words,
                                               Xapian::rev revision) const;
  /** A reader from the pool, or a new one. */
  std::unique_ptr<Reader> take_reader() const;
  void give_back(std::unique_ptr<Reader> reader) const;
  /** The Snapshot of @p reader's revision, made once per revision and shared by the readers at it. */
  std::shared_ptr<const Snapshot> snapshot_of(Reader& reader) const;
  /** Gives every document its field lengths and sums them, for an index made before they were kept. */
  void rebuild_field_stats();
  /** Writes the field statistics into the metadata and commits (lock held). */
  void commit_stats_and_data();

  const std::string name_;
  const std::string path_;
  mutable std::mutex mu_;
  mutable Xapian::WritableDatabase db_;
  std::uint64_t next_seq_ = 0;  ///< order of writes, for `newest`
  FieldStatsPair stats_{};
  bool dirty_ = false;                  ///< writes not committed yet (guarded by mu_)
  Xapian::rev committed_revision_ = 0;  ///< the writer's last commit (guarded by mu_)

  mutable std::mutex readers_mu_;
  mutable std::vector<std::unique_ptr<Reader>> idle_readers_;  ///< guarded by readers_mu_
  mutable std::mutex snapshot_mu_;                             ///< one Snapshot made at a time
  mutable std::shared_ptr<const Snapshot> snapshot_;           ///< the newest (guarded by snapshot_mu_)
};

/** Recursively merges @p partial into @p doc as a partial update of Elasticsearch does. */
void merge_document(Json& doc, const Json& partial);

}  // namespace sluice::elasticsearch
