#pragma once
// The connection settings of the Elasticsearch HTTP client (es_client.hpp): what the sink's
// options (es_settings.hpp) and the search page's give it.
#include <chrono>
#include <string>
#include <vector>

namespace sluice::elasticsearch {

/** Connection settings (the client's). */
struct ClientSettings {
  std::vector<std::string> hosts;  ///< base URLs, e.g. http://127.0.0.1:9200 (a path prefix is kept)
  std::chrono::milliseconds timeout{60000};
  std::chrono::milliseconds host_down_min{1000};  ///< how long a failing host is left alone, at first
  std::chrono::milliseconds host_down_max{30000};
  bool gzip = false;
  std::string authorization;  ///< the Authorization header's value ("" for none); never logged
  std::string tls_ca_file;
  std::string tls_certificate;
  std::string tls_private_key;
  bool tls_verify = true;
};

}  // namespace sluice::elasticsearch
