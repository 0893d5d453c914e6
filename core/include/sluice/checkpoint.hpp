#pragma once
/**
 * @file checkpoint.hpp
 * @brief Durable marks beside a source's committed position.
 *
 * A source whose position is durable and shared with whoever consumes the
 * stream next (a Kafka partition's committed offset in its consumer group)
 * attaches a Checkpoint to the events it reads there (Metadata::checkpoint).
 * A transform that must make the same decisions again after a crash or a
 * rebalance records them as marks: offsets of the stream, stored with the
 * position itself, and handed to the next owner with the position it resumes
 * from. The `aggregate` transform records each window's closing offset
 * before it emits the window, so that a replay closes the same windows.
 *
 * One Checkpoint stands for one position for as long as this process owns
 * it (a Kafka assignment): after a revocation, a new assignment brings a new
 * object. Methods are thread-safe.
 */
#include <cstdint>
#include <string>
#include <vector>

namespace sluice {

class Checkpoint {
 public:
  enum class Result {
    Recorded,  ///< stored durably with the position
    Retry,     ///< not stored now (the store is unreachable): try again later
    Lost,      ///< the position is no longer ours (revoked, closed): never will be
  };
  virtual ~Checkpoint() = default;
  /** What the position is, for logs (e.g. "page-views[3]"). */
  virtual std::string name() const = 0;
  /**
   * Where the position's offsets count (a Kafka cluster's id): offsets of
   * two origins are not comparable, since a new cluster (the embedded one,
   * every time the daemon starts) counts from 0 again. An idempotency guard
   * keyed by offsets names it too (the `aggregate` transform passes it on as
   * the attribute `origin`). Empty when unknown. Fixed for the object's life.
   */
  virtual std::string origin() const { return {}; }
  /**
   * Marks an earlier owner recorded at or past the position this one resumed
   * from, ascending. Fixed for the object's life.
   */
  virtual const std::vector<std::int64_t>& recovered() const noexcept = 0;
  /** False once the position is no longer ours (records would be Lost). Cheap. */
  virtual bool owned() const noexcept = 0;
  /**
   * Records @p offset as a mark, durably, before returning (a round trip to
   * the store). Marks the position has moved past are forgotten. On Retry or
   * Lost, @p why says why; nothing was recorded.
   */
  virtual Result record(std::int64_t offset, std::string& why) = 0;
};

}  // namespace sluice
