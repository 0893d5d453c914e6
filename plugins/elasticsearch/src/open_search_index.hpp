#pragma once
// One way for any plugin (the elasticsearch sink, the search page) to open the search index its
// `hosts` names: the embedded Xapian index, or an Elasticsearch / OpenSearch cluster.
#include <memory>
#include <string>

#include <sluice/sdk.hpp>
#include <sluice/search_index.hpp>

#include "es_client_settings.hpp"

namespace sluice::elasticsearch {

/**
 * The search index @p index: with @p embedded, the embedded index of that name under
 * @p data_dir (shared in-process with every other holder, see EmbeddedIndex::acquire; throws
 * std::runtime_error when another process holds it); otherwise an EsSearchIndex over a new
 * client of @p client's hosts (no request is sent here: a server that is down makes each later
 * call throw std::runtime_error, which a search page answers with 503).
 */
std::shared_ptr<SearchIndex> open_search_index(Logger& log, const std::string& data_dir,
                                               const ClientSettings& client, bool embedded,
                                               const std::string& index);

}  // namespace sluice::elasticsearch
