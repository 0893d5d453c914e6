#pragma once
// The parts of the embedded index that its searches of committed revisions use
// (embedded_search.cpp): internal to libsluice-search.
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "embedded_index.hpp"

namespace sluice::elasticsearch {

/**
 * What a search reads of one committed revision besides the postings and the page's documents,
 * in memory: per document its field lengths (Lucene's length byte), visits and order of writes,
 * and the field statistics with the BM25 length factors they give. Made once per revision, by
 * the first search of it (one pass over four value streams), shared by every reader at it.
 */
struct EmbeddedIndex::Snapshot {
  Xapian::rev revision = 0;
  FieldStatsPair stats{};
  /** Per field, per length byte: 1 / (k1 × (1 − b + b × length / average length)), in float as Lucene has it.
   */
  std::array<std::array<float, 256>, 2> norm_inverse{};
  std::array<std::vector<std::uint8_t>, 2> length_byte;  ///< per field, indexed by docid
  std::vector<double> visits;                            ///< by docid; NaN where the document has none
  std::vector<double> seq;                               ///< by docid: the order of writes (`newest`)
};

/** A read-only handle of the index, used by one search at a time, at the revision it was (re)opened at. */
struct EmbeddedIndex::Reader {
  explicit Reader(const std::string& path) : db(path) {}
  Xapian::Database db;
  std::shared_ptr<const Snapshot> snapshot;  ///< of db's revision, once a search asked for it
};

}  // namespace sluice::elasticsearch
