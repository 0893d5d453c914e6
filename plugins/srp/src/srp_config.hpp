#pragma once
// The srp source's configuration: its schema table, the factory-side check
// (every rule `sluice validate` can decide without the outside world) and the
// parsed settings the backend, the pages and the source use.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <sluice/sdk.hpp>

#include "es_client_settings.hpp"
#include "query.hpp"

namespace sluice::srp {

/** How the search index is reached (option names as the elasticsearch sink's). */
struct BackendSettings {
  elasticsearch::ClientSettings client;  ///< hosts (or the one word `embedded`), auth, TLS
  bool embedded = true;
  std::string index = "listing_index";
  std::chrono::milliseconds timeout{10000};  ///< a search's answer; then 503
};

struct Settings {
  std::string listen = "0.0.0.0:8080";
  std::size_t max_connections = 1024;
  BackendSettings backend;
  std::string web_root;  ///< "" for the built-in pages
  QueryLimits limits;
  std::size_t home_listings = 6;
  double visits_missing = 0;
  std::size_t search_threads = 4;  ///< load_settings() resolves the option's 0 (automatic)
  std::size_t max_pending = 256;
  std::string user_cookie = "sluice_uid";
  std::string user_header = "X-User-Id";
};

const Schema& source_schema();
void check_source(const Config& config, ConfigIssues& issues);
/** Parses a config that passed check_source(); throws (a secret that cannot be read). */
Settings load_settings(const Config& config);

/** @p listen as "host:port" (":8080" → "0.0.0.0:8080"); nullopt with @p why when not an address. */
std::optional<std::string> listen_address(const std::string& listen, std::string& why);

/** The routes the page serves, as "METHOD /path" (for claims and the start-up log). */
const std::vector<std::string>& route_list();

}  // namespace sluice::srp
