#pragma once
// The embedded search index of `hosts: embedded`: one Xapian database per
// index name under <data_dir>/search-index/, opened once per process and
// shared by every plugin that names it, locked against other processes.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

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

 private:
  /** The stored JSON of @p id (lock held). */
  std::optional<Json> load(const std::string& id) const;
  /** Writes @p doc as document @p id (lock held). */
  void store(const std::string& id, const Json& doc);

  const std::string name_;
  const std::string path_;
  mutable std::mutex mu_;
  mutable Xapian::WritableDatabase db_;
  std::uint64_t next_seq_ = 0;  ///< order of writes, for `newest`
  bool dirty_ = false;
};

/** Recursively merges @p partial into @p doc as a partial update of Elasticsearch does. */
void merge_document(Json& doc, const Json& partial);

}  // namespace sluice::elasticsearch
