#pragma once
// `http_client` source: a long-lived HTTP stream (X's filtered stream, SSE) or
// a poll every interval, cut into events, reconnected by the class of what went
// wrong (reconnect.hpp).
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <sluice/sdk.hpp>

#include "client_settings.hpp"
#include "connection.hpp"
#include "framing.hpp"

namespace sluice::http_client {

class HttpClientSource : public Source {
 public:
  HttpClientSource(PluginContext& ctx, const Config& config);
  ~HttpClientSource() override;
  void run(SourceContext& ctx) override;
  void stop() override;
  static const Schema& schema() { return source_schema(); }
  static void check(const Config& config, ConfigIssues& issues) { check_source(config, issues); }

 private:
  /** What one connection or request came to. */
  struct Attempt {
    bool answered = false;  ///< a 2xx or 304 head came
    std::optional<ErrorClass> failure;
    std::string why;     ///< for the log and /health
    std::string reason;  ///< metric label of the reconnect
    std::optional<milliseconds> server_wait;
  };
  void run_stream(SourceContext& ctx);
  void run_poll(SourceContext& ctx);
  /** Sends the request; a non-2xx answer fills @p a (its body read for the log, bounded). */
  bool start(Connection& c, const std::vector<std::pair<std::string, std::string>>& extra, ResponseHead& head,
             Attempt& a);
  /** Reads one stream until it ends; false when the pipeline is stopping. */
  bool stream(SourceContext& ctx, Connection& c, Splitter& splitter, Attempt& a);
  /** Turns @p records into events and emits them; false when stopping. */
  bool emit(SourceContext& ctx, std::vector<Record>& records);
  /** After a failure: logs, counts, waits; false when the source ends (stopping, or credentials refused). */
  bool after_failure(SourceContext& ctx, const Attempt& a);
  void count_reconnect(const std::string& reason);
  void set_connection(Connection* c);

  PluginContext& ctx_;
  Settings settings_;
  std::unique_ptr<Tls> tls_;
  Backoff backoff_;
  std::string topic_;  ///< meta.topic: the URL's path
  std::string etag_;   ///< poll: the last answer's ETag
  std::mutex mu_;      ///< guards current_ against stop()
  Connection* current_ = nullptr;
  std::atomic<bool> stopping_{false};  ///< stop() ran: a connection set after it is aborted at once
  std::string url_for_log_;            ///< scheme://host:port/path (no query)

  Counter& connections_;
  Counter& bytes_;
  Counter& records_;
  Counter& keepalives_;
  Counter& not_modified_;
  Counter& in_band_errors_;
  Counter& oversize_;
  Counter& invalid_;
  Counter& dropped_partial_;
  Gauge& connected_;
  Gauge& last_byte_;
  Metrics& metrics_;
};

}  // namespace sluice::http_client
