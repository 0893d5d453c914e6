#pragma once
// Source `kafka`: a consumer-group member that commits an offset only once
// every event up to it is acknowledged (at-least-once), with the marks
// transforms record on its partitions (partition_checkpoint.hpp).
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common.hpp"
#include "offset_tracker.hpp"
#include "partition_checkpoint.hpp"

namespace sluice::kafka {

class KafkaSource : public Source, public ClientBase {
 public:
  KafkaSource(PluginContext& ctx, const Config& config);
  ~KafkaSource() override;
  void run(SourceContext& ctx) override;
  void stop() override;
  static const Schema& schema();
  /** The factory-side check of a config (kafka_config.cpp). */
  static void check(const Config& config, ConfigIssues& issues);

 private:
  enum class Payload { Json, Text, Raw };
  using PartitionKey = std::pair<std::string, std::int32_t>;
  struct PartitionState {
    std::shared_ptr<OffsetTracker> tracker = std::make_shared<OffsetTracker>();
    std::shared_ptr<PartitionCheckpoint> checkpoint;  ///< what events of this assignment carry
    std::int64_t first_offset = -1;  ///< first offset received in this assignment (for commit lag)
    std::int64_t last_offset = -1;   ///< last offset received (for lag)
    bool stuck = false;              ///< reported as stuck (its tracker is blocked)
  };
  /** Consecutive messages of one partition in one poll batch: they share one acknowledgement. */
  struct Run {
    std::shared_ptr<OffsetTracker> tracker;
    std::int64_t last = -1;  ///< the run's last offset: its entry in the tracker
  };

  static void rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                           void* opaque);
  static void commit_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                        void* opaque);
  void on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts);
  void on_assign(rd_kafka_topic_partition_list_t* parts, bool cooperative);
  /** Drains (bounded) what is in flight for @p parts, stores and commits their offsets, drops their state. */
  void on_revoke(rd_kafka_topic_partition_list_t* parts, bool lost);

  bool should_stop() const noexcept;
  /** Waits (bounded) for in-flight events, stores the done offsets, leaves the group (commits). */
  void close();
  /** Polls up to batch_size messages into pending_; @p timeout_ms for the first one. */
  void poll_batch(int timeout_ms);
  void handle_message(const rd_kafka_message_t* msg);
  /** Ends the open run: its last offset goes into the tracker and the source's handle is released. */
  void close_run();
  PartitionState& partition(const char* topic, std::int32_t partition);
  /** Poll thread: the cluster's id for the checkpoints (the embedded cluster's own), once known. */
  const std::string& cluster_origin();
  /** Hands the trackers' positions that moved (of @p only when given) to the checkpoints. */
  void update_positions(const std::vector<PartitionKey>* only = nullptr, bool all = false);
  /** Commits (synchronously) the positions of @p only (or all) that moved; false if it failed. */
  bool commit_positions(const std::vector<PartitionKey>* only, const char* when);
  /** The checkpoints of @p only (or all). */
  std::vector<std::shared_ptr<PartitionCheckpoint>> checkpoints(const std::vector<PartitionKey>* only) const;
  /** Waits until nothing of @p only (or of any partition) is in flight, or @p deadline. */
  bool wait_in_flight(const std::vector<PartitionKey>* only, std::chrono::steady_clock::time_point deadline);
  void set_paused(bool paused);
  /** Lag gauges, and the partitions whose committed position can no longer move (stuck). */
  void update_lag();
  /** Releases the pending (never emitted) events of @p only (or all) as Failed. */
  void drop_pending(const std::vector<PartitionKey>* only);

  PluginContext& ctx_;
  SourceContext* run_ctx_ = nullptr;
  Brokers brokers_;  // before rk_: an embedded cluster must outlive the consumer
  HandlePtr rk_;
  std::vector<std::string> topics_;
  Payload payload_ = Payload::Json;
  std::size_t batch_size_ = 1000;
  std::chrono::milliseconds drain_timeout_{10000};
  std::chrono::milliseconds pause_after_{1000};
  std::chrono::milliseconds commit_interval_{1000};
  bool cooperative_ = false;  ///< the group protocol of the configured assignors
  std::shared_ptr<Committer> committer_;
  std::string origin_;  ///< poll thread: see cluster_origin()
  std::chrono::steady_clock::time_point next_commit_{};
  std::size_t commit_failures_ = 0;  ///< in a row: the next commit waits longer

  std::map<PartitionKey, PartitionState> partitions_;  // poll thread only
  PartitionState* last_state_ = nullptr;               // cache for consecutive messages of one partition
  const rd_kafka_topic_t* last_rkt_ = nullptr;
  std::int32_t last_partition_ = -1;
  std::shared_ptr<Run> run_;  // the open run (poll thread only)
  AckHandle run_ack_;         // the source's own reference to the open run's acknowledgement
  Batch pending_;
  bool paused_ = false;
  std::optional<std::chrono::steady_clock::time_point> full_since_;  ///< since when pending_ is refused
  bool closing_ = false;
  std::atomic<bool> stop_{false};

  Counter& messages_;
  Counter& bytes_;
  Counter& commits_;
  Counter& dead_lettered_;
  Counter& pauses_;
  Counter& errors_;
  Gauge& paused_gauge_;
  Gauge& lag_;
  Gauge& commit_lag_;
  Gauge& stuck_;
  Gauge& assigned_;
};

}  // namespace sluice::kafka
