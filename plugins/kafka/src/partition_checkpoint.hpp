#pragma once
// The consumer's commits: each partition's offset, and in its commit metadata
// the marks transforms record through sluice::Checkpoint (window boundaries).
//
// librdkafka 2.0.2's offsets_store() drops metadata, and its auto-commit would
// then write the metadata empty: the source commits by itself. Every commit is
// synchronous and made under one mutex, so a commit carrying an older list of
// marks can never land after one carrying a newer list.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common.hpp"

namespace sluice::kafka {

/** Marks as commit metadata (`sluice-marks:12,40`); empty for none. */
std::string encode_marks(const std::vector<std::int64_t>& marks);
/** The marks of @p metadata; none for metadata sluice did not write. */
std::vector<std::int64_t> decode_marks(std::string_view metadata);

class Committer;

/** One partition for one assignment of it. */
class PartitionCheckpoint final : public Checkpoint {
 public:
  /**
   * @p committed is the group's committed offset at assignment (-1: none) and @p recovered the
   * marks committed with it that are not behind it; @p origin the id of the cluster (empty when
   * unknown).
   */
  PartitionCheckpoint(std::shared_ptr<Committer> committer, std::string topic, std::int32_t partition,
                      std::int64_t committed, std::vector<std::int64_t> recovered, std::string origin);
  std::string name() const override;
  std::string origin() const override { return origin_; }
  const std::vector<std::int64_t>& recovered() const noexcept override { return recovered_; }
  bool owned() const noexcept override { return live_.load(std::memory_order_acquire); }
  Result record(std::int64_t offset, std::string& why) override;

  /** Poll thread: everything before @p next is done (it only grows). */
  void set_position(std::int64_t next) noexcept { position_.store(next, std::memory_order_release); }
  /** Poll thread: the first offset received, the position while nothing is done. */
  void set_start(std::int64_t first) noexcept {
    std::int64_t none = -1;
    start_.compare_exchange_strong(none, first, std::memory_order_acq_rel);
  }
  const std::string& topic() const noexcept { return topic_; }
  std::int32_t partition() const noexcept { return partition_; }

 private:
  friend class Committer;
  /** The offset a commit now would store, -1 when none is known. */
  std::int64_t commit_position() const noexcept;

  const std::shared_ptr<Committer> committer_;
  const std::string topic_;
  const std::int32_t partition_;
  const std::vector<std::int64_t> recovered_;
  const std::string origin_;
  std::atomic<std::int64_t> position_{-1};
  std::atomic<std::int64_t> start_{-1};
  std::atomic<bool> live_{true};  ///< set under the committer's mutex
  // Under the committer's mutex:
  std::int64_t committed_ = -1;
  std::vector<std::int64_t> marks_;  ///< as last committed: ascending, none behind committed_
};

/** The commits of one consumer, one at a time. */
class Committer {
 public:
  explicit Committer(rd_kafka_t* rk) : rk_(rk) {}
  /**
   * Commits, synchronously, the live partitions of @p parts whose position moved since their last
   * commit (a record commits at once). False (with @p why) when the commit failed.
   */
  bool commit(const std::vector<std::shared_ptr<PartitionCheckpoint>>& parts, std::string& why);
  /** @p parts are no longer this consumer's: from now on their records are Lost. */
  void retire(const std::vector<std::shared_ptr<PartitionCheckpoint>>& parts);
  /** The consumer closes: every record is Lost from now on. */
  void close();

 private:
  friend class PartitionCheckpoint;
  Checkpoint::Result record(PartitionCheckpoint& cp, std::int64_t offset, std::string& why);
  /** Under mu_: commits @p parts with @p marks each (same order); false with @p why on failure. */
  bool commit_locked(const std::vector<PartitionCheckpoint*>& parts,
                     const std::vector<std::vector<std::int64_t>>& marks, std::string& why);

  std::mutex mu_;
  rd_kafka_t* rk_;  ///< null once closed
};

}  // namespace sluice::kafka
