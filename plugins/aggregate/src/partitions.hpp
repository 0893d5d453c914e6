#pragma once
// The groups of an `aggregate`, one GroupTable per source partition with
// `by_partition` (one for all without), and what makes a partition's windows
// reproducible: when its events carry a sluice::Checkpoint (Kafka), each
// window's closing offset is recorded there before the window is emitted, and
// whoever consumes the partition next closes its first windows at exactly the
// recorded offsets. A count delivered again then covers the same events as
// before, which the sink's guard (the last offset applied, per partition)
// recognises. Processing-time windows only: an event-time window is not a
// range of offsets.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "groups.hpp"

namespace sluice::aggregate {

class Partitions {
 public:
  Partitions(const Settings& settings, Logger& log);

  /** GroupTable::add for the event's partition; throws ParseError (changing nothing). */
  void add(Event& event, std::int64_t now_ms, Batch& out);
  /** Appends the windows closed at @p now_ms whose marks are recorded; drops those no longer ours. */
  void close_due(std::int64_t now_ms, Batch& out);
  /** Appends every group whose mark can be recorded; the others fail (consumed again later). */
  void flush(Batch& out);

  std::size_t groups() const noexcept;
  std::uint64_t emitted(EmitReason reason) const noexcept;
  std::uint64_t skipped_values() const noexcept;
  /** Outputs whose window no longer belonged to this process when it closed (failed, counted again). */
  std::uint64_t lost() const noexcept { return lost_; }

 private:
  struct Part {
    std::unique_ptr<GroupTable> table;       ///< kept for the key's life (new assignments reuse it)
    std::shared_ptr<Checkpoint> checkpoint;  ///< set when its windows are recorded
    std::deque<std::int64_t> replay;         ///< recovered marks still ahead: close there
    std::int64_t frozen_now = 0;             ///< while replaying, every event is in one window
    Batch held;                              ///< closed, waiting for their mark to be recorded
    std::int64_t held_mark = -1;
    std::size_t failures = 0;  ///< records refused in a row
  };
  using Key = std::pair<std::string, std::int32_t>;

  /** The part of @p event, started again when its checkpoint is a new assignment's. */
  Part& part_for(const Event& event, std::int64_t now_ms, Batch& out);
  bool recording(const Event& event) const noexcept;
  /** Closes the table at the next recovered mark (recorded already). */
  void close_at_mark(Part& p, Batch& out);
  /** @p closed is to be emitted: at once without a checkpoint, else once its mark is recorded. */
  void stage(Part& p, Batch& closed, Batch& out);
  /** Records the held windows' mark; emits them, keeps them for later, or fails them (no longer ours). */
  void try_record(Part& p, Batch& out);
  /** Releases @p events as Failed: the partition's next owner counts them again. */
  void fail(Part& p, Batch& events, const std::string& why);

  const Settings& s_;
  Logger& log_;
  std::map<Key, Part> parts_;  ///< entries are never erased
  std::pair<const Key, Part>* last_ = nullptr;
  std::uint64_t lost_ = 0;
};

}  // namespace sluice::aggregate
