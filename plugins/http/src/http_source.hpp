#pragma once
// `http` source: routes declared in YAML on the core's shared HTTP servers.
#include <memory>
#include <thread>

#include <sluice/sdk.hpp>

namespace sluice::http_source {

struct Shared;

/**
 * Serves the configured routes; each request becomes one or more events. The
 * routes are registered in run() (so a replaced pipeline can give its port to
 * the new one) and removed in the destructor, once every request being
 * answered has its answer.
 */
class HttpSource : public Source {
 public:
  HttpSource(PluginContext& ctx, const Config& config);
  ~HttpSource() override;
  void run(SourceContext& ctx) override;
  static const Schema& schema();
  /** The factory-side check of a config (http_config.cpp). */
  static void check(const Config& config, ConfigIssues& issues);

 private:
  PluginContext& ctx_;
  std::shared_ptr<Shared> shared_;
  std::unique_ptr<HttpRegistration> registration_;
  std::thread room_thread_;  ///< emits requests that found the pipeline full (Shared::serve_room)
};

}  // namespace sluice::http_source
