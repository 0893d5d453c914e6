#pragma once
// What `sluice top` shows, built from one poll of a daemon's /status and /metrics and the poll
// before it (rates are differences of counters over the time between the two).
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/top/metrics_text.hpp"

namespace sluice::app::top {

/** One source, transform, sink or dead-letter sink. Rates are per second; negative until two polls. */
struct ComponentRow {
  std::string id;    ///< pipeline.role.name, as in the metrics' `component` label
  std::string role;  ///< source, transform, sink, dead_letter
  std::string type;  ///< the plugin
  double in = 0, out = 0, failed = 0, dead_lettered = 0, retried = 0, dropped = 0;  ///< totals
  double in_rate = -1, out_rate = -1, failed_rate = -1, dead_lettered_rate = -1, retried_rate = -1;
  double queue_depth = -1, queue_max = -1;  ///< sinks
  double latency_ms = -1;                   ///< mean batch latency over the last interval
  double latency_sum = 0, latency_count = 0;
  std::string notes;  ///< plugin figures: Kafka lag and partitions, HTTP answers by class, ...
};

struct PipelineRow {
  std::string name;
  std::string state;                     ///< running, stopping, failed, finished, ...
  std::string problem;                   ///< why /health would fail, when it would
  std::vector<ComponentRow> components;  ///< source, transforms, sinks, dead letter
};

struct Snapshot {
  double at = 0;  ///< seconds, monotonic
  std::string version;
  double uptime = 0;
  bool ready = false;
  std::vector<PipelineRow> pipelines;
};

/** Builds the snapshot of one poll; @p previous (may be null) gives the rates. */
Snapshot build_snapshot(const nlohmann::json& status, const std::vector<Sample>& metrics, double at,
                        const Snapshot* previous);

enum class SortKey { Name, InRate, OutRate, Failed };
const char* to_string(SortKey k);
SortKey next(SortKey k);

/** The pipelines to show: those whose name contains @p filter, sorted by @p key (busiest first). */
std::vector<const PipelineRow*> arrange(const Snapshot& s, SortKey key, const std::string& filter);

/** "12.3k" style figures for narrow columns; "-" for a negative (unknown) value. */
std::string human(double v);

}  // namespace sluice::app::top
