#pragma once
// The elasticsearch sink's writes into the embedded index (`hosts: embedded`):
// each event is encoded as for a server's _bulk API and that item is applied
// to the index, with the verdicts a server's bulk answer would give.
#include <sluice/sdk.hpp>
#include <sluice/search_index.hpp>

#include "bulk_request.hpp"
#include "es_settings.hpp"

namespace sluice::elasticsearch {

/** Ids longer than this do not fit a Xapian term (ES takes 512 bytes). */
inline constexpr std::size_t kMaxEmbeddedIdBytes = 200;

/**
 * Applies @p batch to @p index as `settings.action` says, then commits, and returns the
 * verdicts: Ok for what is stored (and durable), and, like a server's answer, Ok for a
 * create that finds the id taken (409) and for a delete of a missing document (404),
 * Error for an update of a missing document (404) or an event that cannot be encoded,
 * Retry for every event of the batch when the store fails (nothing of it is acknowledged).
 */
WriteResult write_embedded(SearchIndex& index, const Settings& settings, const BulkEncoder& encoder,
                           Batch& batch, Logger& log);

}  // namespace sluice::elasticsearch
