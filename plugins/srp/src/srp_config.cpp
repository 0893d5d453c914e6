// The srp source's schema table, its factory-side check and the parsing of a
// checked config into Settings.
#include "srp_config.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <thread>

#include <Poco/URI.h>

#include "es_connection.hpp"

namespace sluice::srp {
namespace {

bool valid_index_name(const std::string& name) {
  if (name.empty() || name.size() > 200 || name.front() == '-' || name.front() == '_' ||
      name.front() == '.' || name.front() == '+')
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

bool cookie_name(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

}  // namespace

const std::vector<std::string>& route_list() {
  static const std::vector<std::string> routes = {"GET /",        "GET /search",      "GET /api/search",
                                                  "GET /item/{}", "GET /api/item/{}", "GET /static/{}"};
  return routes;
}

std::optional<std::string> listen_address(const std::string& listen, std::string& why) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    why = "expected host:port (e.g. 0.0.0.0:8080 or :8080)";
    return std::nullopt;
  }
  std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  const bool digits = !port.empty() && port.size() <= 5 &&
                      std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || std::stoi(port) > 65535) {
    why = "the port must be a number from 0 to 65535";
    return std::nullopt;
  }
  const bool v6 = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  const bool name_ok = std::all_of(host.begin() + (v6 ? 1 : 0), host.end() - (v6 ? 1 : 0), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
           (v6 && c == ':');
  });
  if (!name_ok) {
    why = "expected a host name or an IP address before the port";
    return std::nullopt;
  }
  if (host.empty()) host = "0.0.0.0";
  return host + ":" + std::to_string(std::stoi(port));
}

const Schema& source_schema() {
  static const Schema s =
      SchemaBuilder()
          .option("listen", OptionType::String)
          .def("0.0.0.0:8080")
          .doc(
              "Address the pages are served on, host:port. Sources on the same address share one server "
              "(its first registration fixes its settings); a route clash is an error.")
          .option("hosts", OptionType::StringList)
          .def("[embedded]")
          .doc(
              "`embedded`: the embedded search index named `index` under the daemon's data directory, "
              "the one an elasticsearch sink with `hosts: embedded` writes (same daemon). Otherwise the "
              "base URLs of Elasticsearch / OpenSearch nodes; one string may hold several separated by "
              "commas (`${ES_HOSTS:-embedded}`).")
          .option("index", OptionType::String)
          .def("listing_index")
          .doc("The index searched (documents with `title`, `description`, `visits`).")
          .option("timeout", OptionType::Duration)
          .def("10s")
          .range(1, 600000)
          .doc("Longest wait for the index's answer; then the page says the search is unavailable (503).")
          .with(elasticsearch::connection_options)
          .option("web_root", OptionType::String)
          .doc(
              "A directory with templates (`templates/*.html`) and assets (`static/*`) replacing the "
              "built-in ones of the same name (see plugins/srp/README.md); unset: the built-in pages.")
          .option("page_size", OptionType::Int)
          .def("10")
          .range(1, 1000)
          .doc("Results per page when the request gives no `size`.")
          .option("max_page_size", OptionType::Int)
          .def("100")
          .range(1, 1000)
          .doc("Largest `size` a request may ask for; more is brought down to it (with a notice).")
          .option("max_query_bytes", OptionType::Int)
          .def("1024")
          .range(16, 65536)
          .doc("Longest query text searched; a longer one is shortened (with a notice).")
          .option("home_listings", OptionType::Int)
          .def("6")
          .range(0, 100)
          .doc("Listings shown on the home page under newest and under hottest.")
          .option("visits_missing", OptionType::Float)
          .def("0")
          .range(0, std::nullopt)
          .doc("Visits counted for a listing without `visits` in the `hot` ranking (ES `missing`).")
          .option("search_threads", OptionType::Int)
          .def("0")
          .range(0, 64)
          .doc(
              "Threads that query the index: the HTTP event loops never wait for the index, their "
              "answers are sent by these threads. 0: two per core with `hosts: embedded` (its searches "
              "are CPU work, in parallel), 32 with a cluster (each thread waits for the node's answer, "
              "so they bound the searches in flight).")
          .option("max_pending", OptionType::Int)
          .def("256")
          .range(1, 65536)
          .doc("Requests waiting for a search thread; beyond that new ones get 503 at once.")
          .option("max_connections", OptionType::Int)
          .def("1024")
          .range(1, 65536)
          .doc("Open connections of the server (when this source starts it); beyond: 503.")
          .option("user_cookie", OptionType::String)
          .def("sluice_uid")
          .doc(
              "Cookie naming the visitor in page views; set with a random id on the first page a "
              "visitor opens without it.")
          .option("user_header", OptionType::String)
          .def("X-User-Id")
          .doc(
              "Request header naming the visitor (a front end that knows the logged-in user); wins over "
              "the cookie.")
          .build();
  return s;
}

void check_source(const Config& config, ConfigIssues& issues) {
  std::string why;
  const auto listen = listen_address(config.str("listen"), why);
  if (!listen)
    issues.error(config, "listen", "invalid listen address '" + config.str("listen") + "': " + why);
  const bool shared = listen && listen->substr(listen->rfind(':')) != ":0";
  if (shared)
    for (const std::string& r : route_list())
      issues.claim(config, "listen", "HTTP route " + r + " on " + *listen);

  elasticsearch::check_connection(config, issues);
  if (!valid_index_name(config.str("index")))
    issues.error(
        config, "index",
        "invalid index name '" + safe_utf8(config.str("index")) +
            "': lower-case letters, digits, '-', '_' and '.', not starting with '-', '_', '+' or '.'");
  if (config.integer("page_size") > config.integer("max_page_size"))
    issues.error(config, "page_size", "page_size is over max_page_size");
  if (!cookie_name(config.str("user_cookie")))
    issues.error(config, "user_cookie", "a cookie name has 1 to 64 letters, digits, '_' or '-'");
  if (!cookie_name(config.str("user_header")))
    issues.error(config, "user_header", "a header name has 1 to 64 letters, digits, '_' or '-'");
  if (config.has("web_root") && config.str("web_root").empty())
    issues.error(config, "web_root", "the directory is empty; leave web_root out for the built-in pages");
}

namespace {
/** Searches in flight to a cluster by default: enough to keep a node's search pool busy. */
constexpr std::size_t kClusterSearchThreads = 32;
}  // namespace

Settings load_settings(const Config& config) {
  Settings s;
  s.listen = config.str("listen");
  s.max_connections = static_cast<std::size_t>(config.integer("max_connections"));
  BackendSettings& b = s.backend;
  elasticsearch::read_connection(config, b.client);
  b.embedded = elasticsearch::is_embedded(b.client.hosts);
  b.index = config.str("index");
  b.timeout = config.duration("timeout");
  if (config.has("web_root")) s.web_root = config.str("web_root");
  s.limits.default_size = static_cast<std::size_t>(config.integer("page_size"));
  s.limits.max_size = static_cast<std::size_t>(config.integer("max_page_size"));
  s.limits.max_query_bytes = static_cast<std::size_t>(config.integer("max_query_bytes"));
  s.home_listings = static_cast<std::size_t>(config.integer("home_listings"));
  s.visits_missing = config.number("visits_missing");
  s.search_threads = static_cast<std::size_t>(config.integer("search_threads"));
  if (s.search_threads == 0)
    s.search_threads =
        b.embedded ? std::clamp<std::size_t>(2 * std::max(1u, std::thread::hardware_concurrency()), 2, 64)
                   : kClusterSearchThreads;
  s.max_pending = static_cast<std::size_t>(config.integer("max_pending"));
  s.user_cookie = config.str("user_cookie");
  s.user_header = config.str("user_header");
  return s;
}

}  // namespace sluice::srp
