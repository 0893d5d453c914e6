#pragma once
// Per-partition tracking of which consumed offsets have been fully processed,
// so that only the lowest contiguous completed offset is ever stored.
#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

#include <sluice/ack.hpp>

namespace sluice::kafka {

/**
 * Offsets of one partition between "received" and "stored".
 *
 * The poll thread adds offsets in the order it receives them (increasing, not
 * necessarily consecutive: compaction and transaction markers leave gaps);
 * acknowledgements complete them in any order from sink threads. The offset
 * to store is one past the last offset of the completed prefix: a completion
 * beyond a gap in completions never moves it (a crash would lose the gap).
 * An offset completed as Failed blocks the prefix for good, so nothing at or
 * after it is stored and it is consumed again after a restart or rebalance.
 */
class OffsetTracker {
 public:
  /** Records a received offset (greater than every earlier one). */
  void add(std::int64_t offset);
  /** Completes @p offset (added before) with @p status. Thread-safe, any order. */
  void complete(std::int64_t offset, AckStatus status);

  /**
   * The offset to store (last completed-prefix offset + 1) when it moved
   * since the previous call; nullopt otherwise.
   */
  std::optional<std::int64_t> take_store();
  /** The offset to store now, whether or not it moved (nullopt: nothing completed yet). */
  std::optional<std::int64_t> committable() const;
  /** Offsets received and not completed. */
  std::size_t in_flight() const;
  /** True when a Failed completion stopped the prefix. */
  bool blocked() const;
  /** True when take_store() may return something new (cheap, lock-free). */
  bool dirty() const noexcept { return dirty_.load(std::memory_order_acquire); }

 private:
  enum class State : std::uint8_t { Pending, Done, Failed };
  struct Entry {
    std::int64_t offset;
    State state;
  };
  mutable std::mutex mu_;
  std::deque<Entry> pending_;               ///< received, in offset order, front not done
  std::optional<std::int64_t> next_;        ///< offset to store (prefix end + 1)
  std::optional<std::int64_t> last_taken_;  ///< what take_store() returned last
  std::size_t in_flight_ = 0;
  bool blocked_ = false;
  std::atomic<bool> dirty_{false};
};

}  // namespace sluice::kafka
