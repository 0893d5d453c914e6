#pragma once
// What the basic family's tests read back from a capture sink.
#include <sluice/event.hpp>

#include <vector>

inline std::vector<sluice::Json> fields(const std::vector<sluice::Event>& events) {
  std::vector<sluice::Json> out;
  for (const auto& e : events) out.push_back(e.fields());
  return out;
}
