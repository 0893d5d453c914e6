#pragma once
// The admin endpoint's taps (`sluice tap`): a listener opens a session on one point of a
// pipeline, then long-polls it for the events sampled there; a session not polled for a
// while ends by itself, so a listener that went away costs nothing.
//
//   POST   /tap?pipeline=P[&component=C][&rate=R][&meta=1]   201 {"id", "component"}; 404 no such point
//   GET    /tap/{id}[?wait=MS][&max=N]   200 JSON lines (none after `wait`), 410 once the session ended
//   DELETE /tap/{id}                      204
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/runtime.hpp"
#include "runtime/tap.hpp"
#include "sluice/http.hpp"

namespace sluice::core {

class TapSessions {
 public:
  /** Adds the tap routes to @p routes. @p runtime and this object must outlive the server. */
  void add_routes(std::vector<HttpRoute>& routes, const Runtime& runtime);
  /** Sessions open now (listed on /status as `taps`). */
  std::size_t count();

 private:
  std::shared_ptr<TapSession> find(const std::string& id);
  /** Forgets sessions that ended or expired (lock held). */
  void sweep();
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<TapSession>> sessions_;
};

}  // namespace sluice::core
