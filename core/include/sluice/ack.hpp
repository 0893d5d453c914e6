#pragma once
/**
 * @file ack.hpp
 * @brief End-to-end acknowledgements.
 *
 * A source attaches an AckHandle to the events it emits. Copies of the
 * handle (fan-out to several sinks, events split by a transform) share one
 * AckNode. The node's callback runs exactly once, when the last handle is
 * released, with the worst status any holder reported. A handle destroyed
 * without an explicit release counts as Delivered: that is how a filter
 * "drops" an event. A transform that merges events (an aggregator) joins the
 * inputs' handles into one with Ack::join().
 */
#include <atomic>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

namespace sluice {

/** How an event ended. Ordered: a higher value wins when handles combine. */
enum class AckStatus : std::uint8_t {
  Delivered = 0,     ///< every sink durably accepted it (or a transform dropped it)
  DeadLettered = 1,  ///< a sink refused it and the dead-letter sink accepted it
  Failed = 2,        ///< neither delivered nor dead-lettered (e.g. shutdown deadline): do not commit
};

/** Name of a status, for logs. */
const char* to_string(AckStatus status) noexcept;

/** Shared completion state; use AckHandle and Ack::create, not this directly. */
class AckNode {
 public:
  using Callback = std::function<void(AckStatus)>;
  explicit AckNode(Callback cb) : callback_(std::move(cb)) {}
  AckNode(const AckNode&) = delete;
  AckNode& operator=(const AckNode&) = delete;

  void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  /** Drops one reference with @p status; runs the callback and frees the node on the last. */
  void release(AckStatus status) noexcept;

 private:
  std::atomic<std::uint32_t> refs_{1};
  std::atomic<std::uint8_t> worst_{0};
  Callback callback_;
};

/** A reference to an AckNode. Copyable (adds a holder), movable, may be empty. */
class AckHandle {
 public:
  AckHandle() noexcept = default;
  /** Adopts one reference of @p node. */
  explicit AckHandle(AckNode* node) noexcept : node_(node) {}
  AckHandle(const AckHandle& o) noexcept : node_(o.node_) {
    if (node_) node_->retain();
  }
  AckHandle(AckHandle&& o) noexcept : node_(std::exchange(o.node_, nullptr)) {}
  AckHandle& operator=(const AckHandle& o) noexcept {
    if (this != &o) {
      AckHandle tmp(o);
      std::swap(node_, tmp.node_);
    }
    return *this;
  }
  AckHandle& operator=(AckHandle&& o) noexcept {
    if (this != &o) {
      reset();
      node_ = std::exchange(o.node_, nullptr);
    }
    return *this;
  }
  ~AckHandle() { reset(); }

  /** Releases this holder with @p status; the handle becomes empty. */
  void release(AckStatus status) noexcept {
    if (AckNode* n = std::exchange(node_, nullptr)) n->release(status);
  }
  /** Same as release(Delivered). */
  void reset() noexcept { release(AckStatus::Delivered); }
  explicit operator bool() const noexcept { return node_ != nullptr; }
  /** Identity of the shared node (for tests and grouping). */
  const void* id() const noexcept { return node_; }

 private:
  AckNode* node_ = nullptr;
};

/** Factories for handles. */
struct Ack {
  /** A new handle whose @p on_complete runs once, when it and all its copies are released. */
  static AckHandle create(AckNode::Callback on_complete);
  /**
   * One handle standing for all of @p parents: when it completes, each parent is
   * released with its status. Empty parents are skipped; returns an empty handle
   * when none remain.
   */
  static AckHandle join(std::vector<AckHandle> parents);
};

}  // namespace sluice
