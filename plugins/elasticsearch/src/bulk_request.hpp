#pragma once
// The bulk request body: one action line (and, but for delete, one source
// line) per event, as the _bulk API of Elasticsearch 7/8 and OpenSearch 1/2
// reads it. Encoding never touches the event: retries and the dead-letter
// sink see it as it came.
#include <string>
#include <string_view>

#include "es_settings.hpp"
#include "increment_script.hpp"

namespace sluice::elasticsearch {

/** Appends @p text as a JSON string (quoted, escaped). @p text must be valid UTF-8. */
void append_json_string(std::string& out, std::string_view text);

class BulkEncoder {
 public:
  explicit BulkEncoder(const Settings& settings);
  /**
   * Appends the lines of @p event to @p out. On failure (a missing id, a document
   * that is not a JSON object, ...) returns false with @p why and leaves @p out as it was.
   */
  bool encode(const Event& event, std::string& out, std::string& why) const;

 private:
  bool action_line(const Event& event, std::string& out, std::string& why) const;
  /** The document to write, as compact JSON on one line; for @p update (upsert's `doc`) without create_only.
   */
  bool document(const Event& event, std::string& out, std::string& why, bool update = false) const;
  bool script_body(const Event& event, std::string& out, std::string& why) const;
  bool increment_body(const Event& event, std::string& out, std::string& why) const;
  const Settings& s_;
  /** `{"<verb>":{"_index":"<index>"` when the index is a literal: rendered once, not per event. */
  std::string literal_prefix_;
};

}  // namespace sluice::elasticsearch
