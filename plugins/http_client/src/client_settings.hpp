#pragma once
// The http_client source's configuration: its schema table, the factory-side
// check (every rule `sluice validate` can decide without the network) and the
// parsed settings the connection and the source use.
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <sluice/sdk.hpp>

#include "reconnect.hpp"

namespace sluice::http_client {

enum class Mode { Stream, Poll };
/** How a body becomes events: lines, SSE events, the elements of a JSON array, or the whole body. */
enum class Framing { Ndjson, Sse, JsonArray, Whole };
enum class PayloadKind { Json, Text };
/** What becomes of an in-band `{"errors": [...]}` object (a line without `data`). */
enum class InBandErrors { Log, DeadLetter, Emit };

/** Everything the request needs. */
struct RequestSettings {
  std::string url;  ///< with `query` appended
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type;
  std::string auth_header;  ///< "Authorization" or the `header` of auth type header; "" for none
  std::string auth_value;   ///< never logged
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds response_timeout{30000};  ///< the answer's head; the whole body in poll mode
  std::string tls_ca_file;
  bool tls_verify = true;
};

struct Settings {
  RequestSettings request;
  Mode mode = Mode::Stream;
  Framing framing = Framing::Ndjson;
  PayloadKind payload = PayloadKind::Json;
  InBandErrors errors = InBandErrors::Log;
  std::chrono::milliseconds stall_timeout{90000};
  std::chrono::milliseconds interval{60000};
  std::uint64_t max_record = 1u << 20;
  std::uint64_t max_body = 16u << 20;
  std::size_t batch_size = 100;
  BackoffSettings backoff;
};

const Schema& source_schema();
void check_source(const Config& config, ConfigIssues& issues);
/** Parses a config that passed check_source(); throws std::runtime_error (a secret that cannot be read). */
Settings load_settings(const Config& config);

}  // namespace sluice::http_client
