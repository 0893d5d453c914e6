// What `sluice top` reads from the admin endpoint it is pointed at (any server may answer): the
// Prometheus text parser and the snapshot built from it must never crash, hang or throw, and what
// the screen shows must be printable UTF-8 no wider than the view.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "app/top/metrics_text.hpp"
#include "app/top/top_screen.hpp"
#include "sluice/event.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto samples = sluice::app::top::parse_metrics_text(text);
  for (const auto& s : samples)
    if (s.name.empty()) std::abort();
  // The same bytes as /status, when they are JSON: the snapshot takes whatever shape comes.
  const auto status = nlohmann::json::parse(text, nullptr, false);
  sluice::app::top::Snapshot first = sluice::app::top::build_snapshot(
      status.is_discarded() ? nlohmann::json::object() : status, samples, 1, nullptr);
  const auto second =
      sluice::app::top::build_snapshot(status.is_discarded() ? nlohmann::json() : status, samples, 2, &first);
  sluice::app::top::View view;
  view.width = 80;
  for (const auto& line : sluice::app::top::render(second, view))
    if (line.text.size() > view.width) std::abort();
  return 0;
}
