// Acknowledgement nodes: worst-status combining and exactly-once completion.
#include "sluice/ack.hpp"

#include <memory>

namespace sluice {

const char* to_string(AckStatus status) noexcept {
  switch (status) {
    case AckStatus::Delivered:
      return "delivered";
    case AckStatus::DeadLettered:
      return "dead_lettered";
    case AckStatus::Failed:
      return "failed";
  }
  return "unknown";
}

void AckNode::release(AckStatus status) noexcept {
  const auto s = static_cast<std::uint8_t>(status);
  // fetch_max: the worst status any holder reported wins.
  std::uint8_t cur = worst_.load(std::memory_order_relaxed);
  while (s > cur && !worst_.compare_exchange_weak(cur, s, std::memory_order_relaxed)) {
  }
  // acq_rel: the last releaser must see every other holder's status write.
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  const auto final_status = static_cast<AckStatus>(worst_.load(std::memory_order_acquire));
  try {
    if (callback_) callback_(final_status);
  } catch (...) {
    // A throwing callback must not take the releasing thread (a sink worker) down.
  }
  delete this;
}

AckHandle Ack::create(AckNode::Callback on_complete) {
  return AckHandle(new AckNode(std::move(on_complete)));
}

AckHandle Ack::join(std::vector<AckHandle> parents) {
  std::erase_if(parents, [](const AckHandle& h) { return !h; });
  if (parents.empty()) return {};
  if (parents.size() == 1) return std::move(parents.front());
  // shared_ptr: std::function needs a copyable callable, and copying the
  // handles would add holders that never release.
  auto held = std::make_shared<std::vector<AckHandle>>(std::move(parents));
  return create([held](AckStatus status) {
    for (auto& h : *held) h.release(status);
  });
}

}  // namespace sluice
