// Admin endpoint. Every handler only reads thread-safe state (the metrics
// registry, Runtime::ready/status, the taps), so a slow scrape never blocks the pipelines.
#include "admin.hpp"

#include "schema_json.hpp"
#include "sluice/version.hpp"

namespace sluice::core {

void admin_reply(Poco::Net::HTTPServerResponse& res, Poco::Net::HTTPResponse::HTTPStatus status,
                 const std::string& type, const std::string& body) {
  res.setStatus(status);
  res.setContentType(type);
  res.set("Cache-Control", "no-store");
  res.setContentLength(static_cast<std::streamsize>(body.size()));
  res.send() << body;
}

nlohmann::json plugins_json(const PluginLoader& loader, bool with_schema) {
  nlohmann::json out = nlohmann::json::array();
  for (const LoadedPlugin* p : loader.all()) {
    const PluginDescriptor& d = *p->descriptor;
    nlohmann::json j = {{"kind", to_string(d.kind)},
                        {"name", d.name},
                        {"library", p->library_path.empty() ? std::string("builtin") : p->library_path},
                        {"family", p->library_name},
                        {"description", d.description ? d.description : ""}};
    if (with_schema) {
      j["docs"] = d.docs ? d.docs : "";
      j["schema"] = schema_json(d.schema());
    }
    out.push_back(std::move(j));
  }
  return out;
}

AdminEndpoint::AdminEndpoint(HttpServers& http, const std::string& listen, const Runtime& runtime,
                             const MetricsRegistry& metrics, const PluginLoader& loader) {
  const auto started = std::chrono::steady_clock::now();
  using Req = Poco::Net::HTTPServerRequest;
  using Res = Poco::Net::HTTPServerResponse;
  using Poco::Net::HTTPResponse;
  HttpServerOptions options;
  options.listen = listen;
  options.max_threads = 4;
  options.max_queued = 64;
  std::vector<HttpRoute> routes;
  routes.push_back({"GET", "/metrics", [&metrics](Req&, Res& res, const PathParams&) {
                      admin_reply(res, HTTPResponse::HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                                  metrics.render_prometheus());
                    }});
  // Unhealthy once a pipeline's source has failed (it stays down until a reload or restart) or is
  // stuck (its position cannot move until a restart): a container health check or a supervisor
  // should act on either.
  routes.push_back({"GET", "/health", [&runtime](Req&, Res& res, const PathParams&) {
                      const auto unhealthy = runtime.unhealthy_pipelines();
                      if (unhealthy.empty())
                        return admin_reply(res, HTTPResponse::HTTP_OK, "text/plain", "ok\n");
                      std::string text = "unhealthy:";
                      for (const auto& [name, why] : unhealthy)
                        text += "\npipeline '" + safe_utf8(name) + "': " + safe_utf8(why);
                      admin_reply(res, HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "text/plain", text + "\n");
                    }});
  routes.push_back({"GET", "/ready", [&runtime](Req&, Res& res, const PathParams&) {
                      if (runtime.ready())
                        admin_reply(res, HTTPResponse::HTTP_OK, "text/plain", "ready\n");
                      else
                        admin_reply(res, HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "text/plain", "not ready\n");
                    }});
  // Plugins do not change while the process runs: compute their list once.
  nlohmann::json plugins = plugins_json(loader, false);
  routes.push_back({"GET", "/status", [this, &runtime, plugins, started](Req&, Res& res, const PathParams&) {
                      nlohmann::json j = runtime.status();
                      j["taps"] = taps_.count();
                      j["version"] = sluice::version;
                      j["abi_version"] = sluice::abi_version;
                      j["uptime_seconds"] =
                          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
                      j["plugins"] = plugins;
                      admin_reply(res, HTTPResponse::HTTP_OK, "application/json", j.dump(2) + "\n");
                    }});
  taps_.add_routes(routes, runtime);
  registration_ = http.add(options, std::move(routes));
}

AdminEndpoint::~AdminEndpoint() = default;

std::string AdminEndpoint::address() const {
  return registration_->bound_address();
}

}  // namespace sluice::core
