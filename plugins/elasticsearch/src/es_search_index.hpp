#pragma once
// The SDK's SearchIndex over an Elasticsearch / OpenSearch index: what the search page asks of a
// cluster (the seed's queries), and single-document writes with the same answers as the embedded
// index gives.
#include <initializer_list>
#include <memory>
#include <string>

#include <sluice/sdk.hpp>
#include <sluice/search_index.hpp>

#include "es_client.hpp"

namespace sluice::elasticsearch {

/**
 * One index of a cluster. Every call is one HTTP request (thread-safe: the client pools
 * connections). A server that does not answer, or answers an error that is not part of the
 * contract (a 409 of create, a 404 of a missing document or index), throws std::runtime_error
 * naming the host and the server's error type and reason.
 */
class EsSearchIndex : public SearchIndex {
 public:
  EsSearchIndex(std::shared_ptr<Client> client, std::string index);
  const std::string& name() const override { return index_; }

  IndexResult index(const std::string& id, const Json& doc) override;
  IndexResult create(const std::string& id, const Json& doc) override;
  IndexResult update(const std::string& id, const Json& partial) override;
  IndexResult upsert(const std::string& id, const Json& doc) override;
  IndexResult remove(const std::string& id) override;
  /** The sink's increment script (kIncrementScript) as a scripted upsert: the same guard. */
  IndexResult increment(const std::string& id, const std::string& field, const Json& by,
                        const std::optional<IncrementGuard>& guard) override;
  /**
   * A refresh: every write so far becomes searchable. Durability needs no call (each write
   * request returns once the server's translog has it, its default `request` durability).
   */
  void commit() override;

  std::optional<Json> get(const std::string& id) const override;
  /** Documents of the index (0 when the index does not exist yet). */
  std::uint64_t count() const override;
  /** The page of @p request (none, total 0, when the index does not exist yet). */
  SearchResult search(const SearchRequest& request) const override;

 private:
  /** One request; throws unless its status is 2xx or one of @p also_ok. */
  HttpResult call(const std::string& method, const std::string& path, const std::string& body,
                  std::initializer_list<int> also_ok = {}) const;
  [[noreturn]] void fail(const std::string& method, const std::string& path, const HttpResult& r) const;
  std::string doc_path(const char* api, const std::string& id) const;

  std::shared_ptr<Client> client_;
  const std::string index_;
  const std::string index_path_;  ///< "/<index, percent-encoded>"
};

/**
 * The `_search` body of @p request: `simple_query_string` over `title^2` and `description`
 * (operator OR, no operator syntax: any text is words, as in the embedded index; no words at
 * all: `match_all`), `hot` as `function_score` / `field_value_factor` `log1p` on `visits` with
 * `missing` and `boost_mode: multiply`, `newest` by `_seq_no` (the order of writes, as the
 * embedded index's), highlights with the request's tags (`encoder: html`), `from` / `size`
 * within 10,000, `track_total_hits`.
 */
Json search_body(const SearchRequest& request);

/** The SearchResult of a `_search` answer to search_body(@p request). */
SearchResult search_result(const Json& answer, const SearchRequest& request);

/** The `_update` body of an increment: kIncrementScript, its params, a scripted upsert. */
Json increment_body(const std::string& field, const Json& by, const std::optional<IncrementGuard>& guard);

/** @p text percent-encoded for one path segment of a URL (everything but A-Z a-z 0-9 - . _ ~). */
std::string path_segment(const std::string& text);

}  // namespace sluice::elasticsearch
