// Opening a search index by its `hosts` (see open_search_index.hpp).
#include "open_search_index.hpp"

#include "embedded_index.hpp"
#include "es_search_index.hpp"

namespace sluice::elasticsearch {

std::shared_ptr<SearchIndex> open_search_index(Logger& log, const std::string& data_dir,
                                               const ClientSettings& client, bool embedded,
                                               const std::string& index) {
  if (embedded) return EmbeddedIndex::acquire(log, data_dir, index);
  return std::make_shared<EsSearchIndex>(std::make_shared<Client>(client, log), index);
}

}  // namespace sluice::elasticsearch
