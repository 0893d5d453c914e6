#pragma once
// A PluginContext outside the runtime: for `sluice test` (transforms run
// in-process, one call at a time) and for tests that create plugins directly.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "http/http_servers.hpp"
#include "metrics_registry.hpp"
#include "sluice/plugin.hpp"

namespace sluice::core {

class StandaloneContext : public PluginContext {
 public:
  /** @p data_dir is created if missing; empty: a fresh directory under the system temp dir, removed at the
   * end. */
  StandaloneContext(std::string pipeline, std::string id, std::string data_dir = {});
  ~StandaloneContext() override;

  const std::string& pipeline() const override { return pipeline_; }
  const std::string& id() const override { return id_; }
  Logger& log() override { return *log_; }
  Metrics& metrics() override { return *metrics_; }
  HttpServers& http() override { return http_; }
  const std::string& data_dir() const override { return data_dir_; }
  bool stopping() const noexcept override { return stopping_.load(); }
  bool wait_stop(std::chrono::milliseconds d) const override;
  /** No resources exist outside the runtime: throws naming @p name. */
  std::shared_ptr<Resource> resource(const std::string& name) override;
  /** Keeps the event and reason; see dead_letters(). */
  void dead_letter(Event event, std::string reason) override;

  /** Makes stopping() true. */
  void request_stop();
  /** Events handed to dead_letter(), with their reasons, and forgets them. */
  std::vector<std::pair<Event, std::string>> take_dead_letters();

 private:
  std::string pipeline_;
  std::string id_;
  std::shared_ptr<Logger> log_;
  MetricsRegistry registry_;
  std::unique_ptr<Metrics> metrics_;
  HttpServersImpl http_;
  std::string data_dir_;
  bool remove_data_dir_ = false;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable stop_cv_;
  std::vector<std::pair<Event, std::string>> dead_letters_;
};

}  // namespace sluice::core
