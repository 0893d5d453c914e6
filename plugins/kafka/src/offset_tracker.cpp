#include "offset_tracker.hpp"

#include <algorithm>

namespace sluice::kafka {

void OffsetTracker::add(std::int64_t offset) {
  std::lock_guard lock(mu_);
  pending_.push_back({offset, State::Pending});
  ++in_flight_;
}

void OffsetTracker::complete(std::int64_t offset, AckStatus status) {
  std::lock_guard lock(mu_);
  // Entries are in offset order: binary search (completions are mostly near the front).
  auto it = std::lower_bound(pending_.begin(), pending_.end(), offset,
                             [](const Entry& e, std::int64_t o) { return e.offset < o; });
  if (it == pending_.end() || it->offset != offset || it->state != State::Pending)
    return;  // unknown or duplicate
  --in_flight_;
  if (status == AckStatus::Failed) {
    // Never store at or past an event that was neither delivered nor dead-lettered:
    // the entry stays as a barrier, everything before it can still be released.
    it->state = State::Failed;
    blocked_ = true;
  } else {
    it->state = State::Done;
  }
  bool moved = false;
  while (!pending_.empty() && pending_.front().state == State::Done) {
    next_ = pending_.front().offset + 1;
    pending_.pop_front();
    moved = true;
  }
  if (moved) dirty_.store(true, std::memory_order_release);
}

std::optional<std::int64_t> OffsetTracker::take_store() {
  std::lock_guard lock(mu_);
  dirty_.store(false, std::memory_order_relaxed);
  if (!next_ || next_ == last_taken_) return std::nullopt;
  last_taken_ = next_;
  return next_;
}

std::optional<std::int64_t> OffsetTracker::committable() const {
  std::lock_guard lock(mu_);
  return next_;
}

std::size_t OffsetTracker::in_flight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}

bool OffsetTracker::blocked() const {
  std::lock_guard lock(mu_);
  return blocked_;
}

}  // namespace sluice::kafka
