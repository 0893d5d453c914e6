#pragma once
// Sink `kafka`: an event is Ok only once its delivery report says so.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common.hpp"

namespace sluice::kafka {

class KafkaSink : public Sink, public ClientBase {
 public:
  KafkaSink(PluginContext& ctx, const Config& config);
  ~KafkaSink() override;
  /** Waits for write_async()'s verdict (the core writes asynchronously; this is for retries). */
  WriteResult write(Batch& batch) override;
  bool asynchronous() const override { return true; }
  /** Produces the batch; the last delivery report completes it, on the poll thread. */
  void write_async(Batch& batch, WriteCompletion done) override;
  void flush(std::chrono::milliseconds deadline) override;
  static const Schema& schema();
  /** The factory-side check of a config (kafka_config.cpp). */
  static void check(const Config& config, ConfigIssues& issues);

  /** One write: counts the delivery reports of its messages. */
  struct WriteState;
  /** A message's opaque: where its delivery report goes. */
  struct Slot {
    WriteState* state = nullptr;
    Outcome outcome = Outcome::Ok;
    std::string reason;
    std::string key;    ///< rendered key (must live until the report)
    std::string value;  ///< rendered payload when it is not the event's own bytes
  };

 private:
  enum class Payload { Json, Raw, Template };
  /** A producer and its poll thread (recreated after a fatal error). */
  struct Producer;

  std::unique_ptr<Producer> make_producer();
  /** Recreates the producer if it hit a fatal error, once no write is in flight on it. */
  void recover_if_fatal();
  rd_kafka_topic_t* topic_handle(Producer& p, const std::string& name);
  /** The last report of a write came: its verdict goes to its completion. */
  void complete(WriteState* state);

  PluginContext& ctx_;
  const Config config_;
  Brokers brokers_;  // before producer_: an embedded cluster must outlive the producer
  Template topic_;
  std::optional<Template> key_;
  std::vector<std::pair<std::string, Template>> headers_;
  Payload payload_ = Payload::Json;
  Template template_;
  std::chrono::milliseconds message_timeout_{30000};

  std::shared_mutex producer_mu_;  // shared: writes; exclusive: recreation
  std::unique_ptr<Producer> producer_;

  Counter& produced_;
  Counter& bytes_;
  Counter& failed_;
  Counter& queue_full_;
  Counter& recreated_;
};

}  // namespace sluice::kafka
