#pragma once
// `srp` source: the search result page on the core's shared HTTP servers. Its
// events are the item page views it serves.
#include <memory>

#include <sluice/sdk.hpp>

namespace sluice::srp {

struct Service;

/**
 * Serves the pages, the JSON API and the static assets; each item page served becomes one
 * page-view event `{user_id, item_id, ts}` of its pipeline. The routes are registered in
 * run() (so a replaced pipeline can give its port to the new one) and removed in the
 * destructor, once every request being answered has its answer.
 */
class SrpSource : public Source {
 public:
  SrpSource(PluginContext& ctx, const Config& config);
  ~SrpSource() override;
  void run(SourceContext& ctx) override;
  static const Schema& schema();
  static void check(const Config& config, ConfigIssues& issues);

 private:
  std::shared_ptr<Service> service_;
  std::unique_ptr<HttpRegistration> registration_;
};

}  // namespace sluice::srp
