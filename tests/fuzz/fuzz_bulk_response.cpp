// Bulk responses from outside (an Elasticsearch or OpenSearch server, a proxy in
// front of it, whatever answers on its port): the reader must never crash or
// hang, it must agree with the full (DOM) reader on every body, and when it
// accepts a body it gives exactly one verdict per item of the request, each
// reason printable as JSON. The first byte picks the request's item count and
// action; the rest is the body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "bulk_response.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  namespace es = sluice::elasticsearch;
  const std::size_t items = data[0] & 0x1f;
  const auto action = static_cast<es::Action>((data[0] >> 5) % 7);
  const bool external = data[0] & 0x80;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<es::ItemVerdict> out;
  std::string why;
  std::vector<es::ItemVerdict> full;
  std::string full_why;
  const bool accepted = es::parse_bulk_response(body, items, action, external, out, why);
  // The reader without a DOM and the full one agree on every body.
  if (accepted != es::parse_bulk_response_full(body, items, action, external, full, full_why)) std::abort();
  if (why != full_why || out.size() != full.size()) std::abort();
  for (std::size_t i = 0; i < out.size(); ++i)
    if (out[i].outcome != full[i].outcome || out[i].status != full[i].status ||
        out[i].reason != full[i].reason)
      std::abort();
  if (accepted) {
    if (out.size() != items) std::abort();
    for (const auto& v : out) {
      if (!sluice::valid_utf8(v.reason)) std::abort();
      if (v.outcome == sluice::Outcome::Ok && !v.reason.empty()) std::abort();
      if (v.outcome != sluice::Outcome::Ok && v.reason.empty()) std::abort();
    }
  } else {
    if (!out.empty() || why.empty() || !sluice::valid_utf8(why)) std::abort();
  }
  return 0;
}
