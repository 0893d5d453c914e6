#pragma once
// Reading a bulk response: one verdict per item, in request order, from each
// item's own status (HTTP 200 can carry `"errors": true`).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "es_error.hpp"
#include "es_settings.hpp"

namespace sluice::elasticsearch {

/** What happened to one item of a bulk request. */
struct ItemVerdict {
  Outcome outcome = Outcome::Ok;  ///< Ok, Retry (the server could not take it now) or Error
  int status = 0;
  std::string reason;  ///< for Retry and Error: "status type: reason"
};

/** The `filter_path` that keeps a bulk response down to what parse_bulk_response() reads. */
extern const char* const kBulkFilterPath;

/**
 * Reads the response to a bulk request of @p items items of @p action into @p out.
 * 2xx → Ok; 409 on create or with external versioning → Ok (it is already there); 404 of a
 * delete → Ok (already gone); 429, 408, 5xx, and other conflicts → Retry; anything else →
 * Error with the server's error type and reason. Returns false with @p why when the body is
 * not a bulk response or its items do not match the request one for one.
 */
bool parse_bulk_response(std::string_view body, std::size_t items, Action action, bool external_version,
                         std::vector<ItemVerdict>& out, std::string& why);

/**
 * The same verdicts from a full parse of the body (a DOM): what parse_bulk_response() falls back
 * to for anything but an answer whose items all succeeded, which it reads without a DOM.
 */
bool parse_bulk_response_full(std::string_view body, std::size_t items, Action action, bool external_version,
                              std::vector<ItemVerdict>& out, std::string& why);

}  // namespace sluice::elasticsearch
