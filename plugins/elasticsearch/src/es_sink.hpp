#pragma once
// Sink `elasticsearch`: bulk writes whose events are Ok only once the server
// says each item is stored; what it refuses for now is resent (only those
// items), what it refuses for good goes to the dead-letter sink with its reason.
// With `hosts: embedded` the same actions go to the embedded index instead.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "bulk_request.hpp"
#include "embedded_index.hpp"
#include "es_client.hpp"
#include "es_settings.hpp"

namespace sluice::elasticsearch {

class ElasticsearchSink : public Sink {
 public:
  ElasticsearchSink(PluginContext& ctx, const Config& config);
  ~ElasticsearchSink() override;
  WriteResult write(Batch& batch) override;
  static const Schema& schema() { return sink_schema(); }
  static void check(const Config& config, ConfigIssues& issues) { check_sink(config, issues); }

 private:
  /** What one bulk round trip did to the items it carried. */
  struct Round;
  /** Connects (server name and version), creates the index if asked; retried until it works or stopping. */
  void handshake();
  bool handshake_once(std::string& why);
  /** Waits until the handshake is done; false when stopping first. */
  bool wait_ready();
  /** Sleeps up to @p d; true when stopping (or destroyed) first. */
  bool pause(std::chrono::milliseconds d);
  void send(const std::vector<std::size_t>& items, Round& round);
  std::chrono::milliseconds backoff(std::size_t round) const;

  PluginContext& ctx_;
  Settings settings_;
  std::unique_ptr<Client> client_;           ///< a server's; null with `hosts: embedded`
  std::shared_ptr<EmbeddedIndex> embedded_;  ///< `hosts: embedded`
  BulkEncoder encoder_;
  std::string bulk_target_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool ready_ = false;
  bool closing_ = false;
  bool connected_logged_ = false;  ///< handshake thread only
  std::thread handshake_thread_;

  Counter& docs_ok_;
  Counter& docs_retried_;
  Counter& docs_failed_;
  Counter& requests_2xx_;
  Counter& requests_4xx_;
  Counter& requests_5xx_;
  Counter& requests_failed_;
  Counter& bytes_;
  Histogram& bulk_seconds_;
};

}  // namespace sluice::elasticsearch
