#pragma once
// The one Painless source of a (guarded) increment on a server: the sink's bulk `increment`
// items and EsSearchIndex::increment send it. It is defined in embedded_index.cpp, beside the
// embedded index's increment, which takes the same steps in C++.
namespace sluice::elasticsearch {

/**
 * Params: `f` the counter field, `by` the amount, `gf` the guard field, and for a guarded
 * increment `k` (the guard key) and `s` (its sequence). Run as a scripted upsert, so a
 * missing document starts at 0.
 */
extern const char* const kIncrementScript;

}  // namespace sluice::elasticsearch
