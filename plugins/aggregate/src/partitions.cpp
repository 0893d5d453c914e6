#include "partitions.hpp"

#include <algorithm>

namespace sluice::aggregate {

namespace {
bool power_of_two(std::size_t n) {
  return n != 0 && (n & (n - 1)) == 0;
}
}  // namespace

Partitions::Partitions(const Settings& settings, Logger& log) : s_(settings), log_(log) {}

bool Partitions::recording(const Event& event) const noexcept {
  return s_.by_partition && s_.time == TimeMode::Processing && event.meta.checkpoint != nullptr;
}

Partitions::Part& Partitions::part_for(const Event& event, std::int64_t now_ms, Batch& out) {
  // Consecutive events mostly come from one partition (one source run): the last part is kept at hand.
  if (!last_ || (s_.by_partition &&
                 (event.meta.partition != last_->first.second || event.meta.topic != last_->first.first))) {
    Key key = s_.by_partition ? Key(event.meta.topic, event.meta.partition) : Key();
    auto it = parts_.find(key);
    if (it == parts_.end()) {
      it = parts_.emplace(std::move(key), Part{}).first;
      it->second.table = std::make_unique<GroupTable>(s_);
    }
    last_ = &*it;
  }
  Part& p = last_->second;
  if (!recording(event) || p.checkpoint == event.meta.checkpoint) return p;

  // A new assignment of the partition (or its first): what the last one left is emitted if its mark can
  // still be recorded, else failed; then the windows its previous owner recorded are closed again.
  if (p.checkpoint) {
    Batch rest;
    p.table->flush(rest, EmitReason::Closed);
    stage(p, rest, out);
    if (!p.held.empty()) fail(p, p.held, "its assignment ended before the window's mark was recorded");
  } else {
    Batch rest;  // events of this key that carried no checkpoint: counted, not recorded
    p.table->flush(rest, EmitReason::Closed);
    for (Event& e : rest) out.push_back(std::move(e));
  }
  p.checkpoint = event.meta.checkpoint;
  const auto& marks = p.checkpoint->recovered();
  p.replay.assign(marks.begin(), marks.end());
  p.frozen_now = now_ms;
  p.failures = 0;
  p.table->set_hold(!p.replay.empty());
  if (!p.replay.empty())
    log_.info(p.checkpoint->name(), ": closing the first ", p.replay.size(),
              " window(s) where they closed before, the last at offset ", p.replay.back());
  return p;
}

void Partitions::add(Event& event, std::int64_t now_ms, Batch& out) {
  Part& p = part_for(event, now_ms, out);
  if (!p.checkpoint) {
    p.table->add(event, now_ms, out);
    return;
  }
  const std::int64_t offset = event.meta.offset;
  while (!p.replay.empty() && offset > p.replay.front()) close_at_mark(p, out);
  Batch early;
  p.table->add(event, p.replay.empty() ? now_ms : p.frozen_now, early);
  if (!early.empty()) stage(p, early, out);
  if (!p.replay.empty() && offset == p.replay.front()) close_at_mark(p, out);
}

void Partitions::close_at_mark(Part& p, Batch& out) {
  p.table->flush(out, EmitReason::Closed);
  p.replay.pop_front();
  if (p.replay.empty()) p.table->set_hold(false);
}

void Partitions::stage(Part& p, Batch& closed, Batch& out) {
  if (closed.empty()) return;
  if (!p.checkpoint) {
    for (Event& e : closed) out.push_back(std::move(e));
    closed.clear();
    return;
  }
  for (Event& e : closed) {
    p.held_mark = std::max(p.held_mark, e.meta.offset);
    p.held.push_back(std::move(e));
  }
  closed.clear();
  try_record(p, out);
}

void Partitions::try_record(Part& p, Batch& out) {
  if (p.held.empty()) return;
  std::string why;
  switch (p.checkpoint->record(p.held_mark, why)) {
    case Checkpoint::Result::Recorded:
      if (p.failures)
        log_.info(p.checkpoint->name(), ": window mark recorded after ", p.failures, " failure(s)");
      p.failures = 0;
      for (Event& e : p.held) out.push_back(std::move(e));
      p.held.clear();
      p.held_mark = -1;
      return;
    case Checkpoint::Result::Lost:
      fail(p, p.held, why);
      return;
    case Checkpoint::Result::Retry:
      ++p.failures;
      if (power_of_two(p.failures))
        log_.warn(p.checkpoint->name(), ": ", p.held.size(), " count(s) wait for their window's mark to be ",
                  "recorded (attempt ", p.failures, "): ", why);
      return;
  }
}

void Partitions::fail(Part& p, Batch& events, const std::string& why) {
  if (events.empty()) return;
  log_.info(p.checkpoint ? p.checkpoint->name() : std::string("aggregate"), ": ", events.size(),
            " count(s) not emitted (", why, "): the partition's next owner counts their events again");
  lost_ += events.size();
  for (Event& e : events) e.ack.release(AckStatus::Failed);
  events.clear();
  if (&events == &p.held) p.held_mark = -1;
}

void Partitions::close_due(std::int64_t now_ms, Batch& out) {
  for (auto& [key, p] : parts_) {
    if (p.checkpoint && !p.checkpoint->owned()) {
      // Revoked: what it holds is counted again by the next owner.
      Batch rest;
      p.table->flush(rest, EmitReason::Closed);
      for (Event& e : rest) p.held.push_back(std::move(e));
      fail(p, p.held, p.checkpoint->name() + " is no longer assigned here");
      p.replay.clear();
      p.table->set_hold(false);
      continue;
    }
    if (!p.replay.empty()) continue;  // replaying: windows close at the recorded marks only
    Batch closed;
    p.table->close_due(now_ms, closed);
    if (!closed.empty())
      stage(p, closed, out);
    else
      try_record(p, out);
  }
}

void Partitions::flush(Batch& out) {
  for (auto& [key, p] : parts_) {
    Batch rest;
    p.table->flush(rest);
    stage(p, rest, out);
    if (!p.held.empty()) fail(p, p.held, "its window's mark could not be recorded before the end");
    p.replay.clear();
    p.table->set_hold(false);
  }
}

std::size_t Partitions::groups() const noexcept {
  std::size_t n = 0;
  for (const auto& [key, p] : parts_) n += p.table->groups() + p.held.size();
  return n;
}

std::uint64_t Partitions::emitted(EmitReason reason) const noexcept {
  std::uint64_t n = 0;
  for (const auto& [key, p] : parts_) n += p.table->emitted(reason);
  return n;
}

std::uint64_t Partitions::skipped_values() const noexcept {
  std::uint64_t n = 0;
  for (const auto& [key, p] : parts_) n += p.table->skipped_values();
  return n;
}

}  // namespace sluice::aggregate
