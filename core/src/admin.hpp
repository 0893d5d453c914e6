#pragma once
// The admin endpoint: /metrics, /health, /ready, /status and /tap on the shared HTTP servers.
#include <chrono>
#include <memory>
#include <string>

#include "admin_tap.hpp"
#include "loader.hpp"
#include "metrics_registry.hpp"
#include "runtime/runtime.hpp"
#include "sluice/http.hpp"

namespace sluice::core {

class AdminEndpoint {
 public:
  /**
   * Serves on @p listen ("host:port", port 0 for a free one) until destroyed.
   * Throws std::runtime_error when the address cannot be bound.
   * @p runtime, @p metrics and @p loader must outlive the endpoint.
   */
  AdminEndpoint(HttpServers& http, const std::string& listen, const Runtime& runtime,
                const MetricsRegistry& metrics, const PluginLoader& loader);
  ~AdminEndpoint();
  AdminEndpoint(const AdminEndpoint&) = delete;
  AdminEndpoint& operator=(const AdminEndpoint&) = delete;

  /** "host:port" actually bound. */
  std::string address() const;

 private:
  TapSessions taps_;  // before registration_: the routes use it until they are removed
  std::unique_ptr<HttpRegistration> registration_;
};

/** Answers @p res whole: @p status, a body of @p type, never cached. */
void admin_reply(Poco::Net::HTTPServerResponse& res, Poco::Net::HTTPResponse::HTTPStatus status,
                 const std::string& type, const std::string& body);

/** JSON list of loaded plugins (kind, name, library, description), as /status and `sluice plugins --json`
 * show it. */
nlohmann::json plugins_json(const PluginLoader& loader, bool with_schema);

}  // namespace sluice::core
