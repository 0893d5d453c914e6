#pragma once
// All metrics of the process, exported in Prometheus text format.
#include <memory>
#include <string>

#include "sluice/metrics.hpp"

namespace sluice::core {

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  /**
   * A view that adds `pipeline` and `component` labels (omitted when empty).
   * Metrics it created stay registered (and exported) until the registry dies,
   * so counters survive a reload.
   */
  std::unique_ptr<Metrics> scoped(const std::string& pipeline, const std::string& component);
  /** Prometheus text exposition format 0.0.4, plus process metrics (RSS, CPU, threads). */
  std::string render_prometheus() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::core
