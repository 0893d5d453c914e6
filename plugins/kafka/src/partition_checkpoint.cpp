#include "partition_checkpoint.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>

namespace sluice::kafka {

namespace {
constexpr std::string_view kMarksPrefix = "sluice-marks:";
// Kafka refuses commit metadata past offset.metadata.max.bytes (4096 by default).
constexpr std::size_t kMaxMetadata = 4000;

/** @p marks without those behind @p position. */
std::vector<std::int64_t> pruned(std::vector<std::int64_t> marks, std::int64_t position) {
  std::erase_if(marks, [&](std::int64_t m) { return m < position; });
  return marks;
}
}  // namespace

std::string encode_marks(const std::vector<std::int64_t>& marks) {
  if (marks.empty()) return {};
  std::string out(kMarksPrefix);
  for (std::size_t i = 0; i < marks.size(); ++i) {
    if (i) out.push_back(',');
    out += std::to_string(marks[i]);
  }
  return out;
}

std::vector<std::int64_t> decode_marks(std::string_view metadata) {
  std::vector<std::int64_t> marks;
  if (metadata.substr(0, kMarksPrefix.size()) != kMarksPrefix) return marks;
  metadata.remove_prefix(kMarksPrefix.size());
  while (!metadata.empty()) {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(metadata.data(), metadata.data() + metadata.size(), v);
    if (ec != std::errc() || v < 0) return {};
    marks.push_back(v);
    metadata.remove_prefix(static_cast<std::size_t>(end - metadata.data()));
    if (metadata.empty()) break;
    if (metadata.front() != ',') return {};
    metadata.remove_prefix(1);
  }
  std::sort(marks.begin(), marks.end());
  marks.erase(std::unique(marks.begin(), marks.end()), marks.end());
  return marks;
}

PartitionCheckpoint::PartitionCheckpoint(std::shared_ptr<Committer> committer, std::string topic,
                                         std::int32_t partition, std::int64_t committed,
                                         std::vector<std::int64_t> recovered, std::string origin)
    : committer_(std::move(committer)),
      topic_(std::move(topic)),
      partition_(partition),
      recovered_(std::move(recovered)),
      origin_(std::move(origin)),
      committed_(committed),
      marks_(recovered_) {}

std::string PartitionCheckpoint::name() const {
  return coordinates(topic_, partition_);
}

Checkpoint::Result PartitionCheckpoint::record(std::int64_t offset, std::string& why) {
  return committer_->record(*this, offset, why);
}

std::int64_t PartitionCheckpoint::commit_position() const noexcept {
  const std::int64_t done = position_.load(std::memory_order_acquire);
  if (done >= 0) return std::max(done, committed_);
  return committed_ >= 0 ? committed_ : start_.load(std::memory_order_acquire);
}

Checkpoint::Result Committer::record(PartitionCheckpoint& cp, std::int64_t offset, std::string& why) {
  std::lock_guard lock(mu_);
  if (!rk_ || !cp.live_) {
    why = cp.name() + " is no longer assigned to this consumer";
    return Checkpoint::Result::Lost;
  }
  const std::int64_t position = cp.commit_position();
  if (position < 0) {
    why = cp.name() + ": no position to commit yet";
    return Checkpoint::Result::Retry;
  }
  std::vector<std::int64_t> marks = pruned(cp.marks_, position);
  if (offset >= position && !std::binary_search(marks.begin(), marks.end(), offset))
    marks.insert(std::upper_bound(marks.begin(), marks.end(), offset), offset);
  if (!commit_locked({&cp}, {marks}, why)) return Checkpoint::Result::Retry;
  return Checkpoint::Result::Recorded;
}

bool Committer::commit(const std::vector<std::shared_ptr<PartitionCheckpoint>>& parts, std::string& why) {
  std::lock_guard lock(mu_);
  if (!rk_) return true;
  std::vector<PartitionCheckpoint*> due;
  std::vector<std::vector<std::int64_t>> marks;
  for (const auto& cp : parts) {
    if (!cp || !cp->live_) continue;
    const std::int64_t position = cp->commit_position();
    if (position < 0) continue;
    if (position == cp->committed_) continue;
    due.push_back(cp.get());
    marks.push_back(pruned(cp->marks_, position));
  }
  if (due.empty()) return true;
  return commit_locked(due, marks, why);
}

bool Committer::commit_locked(const std::vector<PartitionCheckpoint*>& parts,
                              const std::vector<std::vector<std::int64_t>>& marks, std::string& why) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(parts.size())));
  std::vector<std::int64_t> positions;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    PartitionCheckpoint& cp = *parts[i];
    const std::string meta = encode_marks(marks[i]);
    if (meta.size() > kMaxMetadata) {
      why = cp.name() + ": " + std::to_string(marks[i].size()) +
            " marks are more than the commit metadata holds (the partition's position does not move)";
      return false;
    }
    positions.push_back(cp.commit_position());
    auto* e = rd_kafka_topic_partition_list_add(list.get(), cp.topic_.c_str(), cp.partition_);
    e->offset = positions.back();
    if (!meta.empty()) {
      // librdkafka frees it with the list.
      e->metadata = std::malloc(meta.size());
      std::memcpy(e->metadata, meta.data(), meta.size());
      e->metadata_size = meta.size();
    }
  }
  const rd_kafka_resp_err_t err = rd_kafka_commit(rk_, list.get(), 0 /* synchronous */);
  bool ok = !err || err == RD_KAFKA_RESP_ERR__NO_OFFSET;
  if (!ok) why = std::string("offset commit failed: ") + rd_kafka_err2str(err);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto* e =
        rd_kafka_topic_partition_list_find(list.get(), parts[i]->topic_.c_str(), parts[i]->partition_);
    if (!ok || (e && e->err)) {
      if (ok) why = parts[i]->name() + ": offset commit failed: " + rd_kafka_err2str(e->err);
      ok = false;
      continue;
    }
    parts[i]->committed_ = positions[i];
    parts[i]->marks_ = marks[i];
  }
  return ok;
}

void Committer::retire(const std::vector<std::shared_ptr<PartitionCheckpoint>>& parts) {
  std::lock_guard lock(mu_);
  for (const auto& cp : parts)
    if (cp) cp->live_.store(false, std::memory_order_release);
}

void Committer::close() {
  std::lock_guard lock(mu_);
  rk_ = nullptr;
}

}  // namespace sluice::kafka
