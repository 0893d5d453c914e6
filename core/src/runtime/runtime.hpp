#pragma once
// The running daemon: resources, pipelines, reload, status.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/pipeline_config.hpp"
#include "config/settings.hpp"
#include "loader.hpp"
#include "metrics_registry.hpp"
#include "sluice/http.hpp"

namespace sluice::core {

class TapSession;

class Runtime {
 public:
  Runtime(const PluginLoader& loader, MetricsRegistry& metrics, HttpServers& http, DaemonSettings settings);
  ~Runtime();

  /** Creates resources and every plugin, then starts them. Throws std::runtime_error naming the component. */
  void start(ConfigSet config);
  /**
   * Replaces the running config: pipelines whose fingerprint changed (or that
   * disappeared) are drained and stopped, new ones started; unchanged ones
   * keep running. Throws (and keeps the old config) when the new one cannot
   * be built.
   */
  void reload(ConfigSet config);
  /** Stops sources, drains within each pipeline's deadline, completes acks. */
  void stop();
  /** SIGHUP for sinks: reopen files. */
  void reopen_sinks();

  /** True once every pipeline and service started. */
  bool ready() const;
  /** Pipelines whose source failed or is stuck, with why (for /health); empty when all are well. */
  std::vector<std::pair<std::string, std::string>> unhealthy_pipelines() const;
  /** How a run went, for `sluice run`'s exit status. */
  struct Summary {
    std::size_t pipelines = 0;
    std::vector<std::string> failed_sources;  ///< pipelines whose source failed
    std::uint64_t read = 0;                   ///< events read by every source
    std::uint64_t dead_lettered = 0;          ///< of them (or of their sink copies): dead-lettered
    std::uint64_t failed = 0;                 ///< ... acknowledged Failed
  };
  Summary summary() const;
  /** True when every source has ended and every queue is empty (finite runs). */
  bool finished() const;
  /** Blocks until finished() or @p timeout; returns finished(). */
  bool wait_finished(std::chrono::milliseconds timeout) const;
  /** JSON for /status: pipelines, components, counters, queue depths, resources. */
  nlohmann::json status() const;
  /**
   * Attaches @p session to the output of @p component of pipeline @p pipeline (see
   * Pipeline::attach_tap) and returns the component's id. Throws std::invalid_argument
   * naming the pipelines or components there are.
   */
  std::string attach_tap(const std::string& pipeline, const std::string& component,
                         std::shared_ptr<TapSession> session) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::core
