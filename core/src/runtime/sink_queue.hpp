#pragma once
// Bounded queue of events in front of one sink.
//
// Producers reserve room before they run transforms, so a batch that cannot
// be queued is never transformed (try_emit must hand it back untouched). The
// bound counts events, queued plus reserved; one batch larger than the bound
// is admitted only into an empty queue, so it cannot starve. Batches are
// stored whole (moving a vector, not its events) and split only when a worker
// takes fewer events than a batch holds.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

#include "sluice/event.hpp"
#include "sluice/metrics.hpp"

namespace sluice::core {

class SinkQueue {
 public:
  using Clock = std::chrono::steady_clock;
  enum class ReserveResult { Reserved, Timeout, Aborted };

  SinkQueue(std::size_t max_events, Gauge* depth) : max_(max_events == 0 ? 1 : max_events), depth_(depth) {}

  /**
   * Waits until @p n more events fit or @p until passes (Timeout) or @p abort
   * returns true (Aborted). @p abort is re-checked on wake() and at least every
   * 100 ms, so it may depend on time.
   */
  ReserveResult reserve(std::size_t n, Clock::time_point until, const std::function<bool()>& abort) {
    std::unique_lock lock(mutex_);
    while (used_ > 0 && used_ + n > max_) {
      if (abort()) return ReserveResult::Aborted;
      const auto now = Clock::now();
      if (now >= until) return ReserveResult::Timeout;
      not_full_.wait_until(lock, std::min(until, now + std::chrono::milliseconds(100)));
    }
    used_ += n;
    return ReserveResult::Reserved;
  }

  /** Returns a reservation of @p n events unused. */
  void cancel(std::size_t n) {
    {
      std::lock_guard lock(mutex_);
      used_ -= n;
    }
    not_full_.notify_all();
  }

  /** Queues @p batch against a reservation of @p reserved events (transforms may have changed its size). */
  void push(Batch&& batch, std::size_t reserved) {
    const std::size_t n = batch.size();
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      used_ = used_ - reserved + n;
      if (n > 0) {
        // One wake per empty → non-empty transition: events pushed before the woken worker
        // runs join its batch instead of waking a worker each (a push source such as http
        // pushes one event per request; a wake per event made single-event writes). A worker
        // that lingers for a fuller batch is woken on every push, so it sees the batch fill.
        wake = queued_ == 0 || lingering_ > 0;
        queued_ += n;
        batches_.push_back(std::move(batch));
        if (depth_) depth_->set(static_cast<std::int64_t>(queued_));
      }
    }
    if (n < reserved) not_full_.notify_all();
    if (wake) not_empty_.notify_one();
  }

  /**
   * Takes up to @p max events into @p out, waiting for the first and then up
   * to @p linger for more. Returns false when the queue is closed and empty,
   * or when @p abort returns true.
   */
  bool pop(Batch& out, std::size_t max, std::chrono::milliseconds linger,
           const std::function<bool()>& abort) {
    std::unique_lock lock(mutex_);
    for (;;) {
      while (queued_ == 0) {
        if (closed_ || abort()) return false;
        not_empty_.wait_for(lock, std::chrono::milliseconds(100));
      }
      if (abort()) return false;
      if (linger.count() > 0 && queued_ < max && !closed_) {
        const auto until = Clock::now() + linger;
        ++lingering_;
        while (queued_ > 0 && queued_ < max && !closed_ && Clock::now() < until) {
          if (abort()) {
            --lingering_;
            return false;
          }
          not_empty_.wait_until(lock, until);
        }
        --lingering_;
        if (queued_ == 0) continue;  // another worker took them while this one lingered
      }
      take(out, max);
      const bool more = queued_ > 0;  // over max: pushes will not wake anyone for these
      lock.unlock();
      not_full_.notify_all();
      if (more) not_empty_.notify_one();
      return true;
    }
  }

  /** No more pushes are expected: workers exit once it is empty. */
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    not_empty_.notify_all();
  }

  /** Wakes every waiter so it re-checks its abort condition. */
  void wake() {
    { std::lock_guard lock(mutex_); }
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  /** Removes everything queued (shutdown leftovers). */
  Batch take_all() {
    Batch out;
    {
      std::lock_guard lock(mutex_);
      take(out, static_cast<std::size_t>(-1));
    }
    not_full_.notify_all();
    return out;
  }

  std::size_t depth() const {
    std::lock_guard lock(mutex_);
    return queued_;
  }
  std::size_t max_events() const noexcept { return max_; }

 private:
  void take(Batch& out, std::size_t max) {
    std::size_t taken = 0;
    while (!batches_.empty() && taken < max) {
      Batch& front = batches_.front();
      const std::size_t room = max - taken;
      if (out.empty() && front.size() <= room) {
        taken += front.size();
        out = std::move(front);
        batches_.pop_front();
      } else if (out.empty()) {
        // Too big for one write: keep the vector and move only its tail back,
        // so a source batch slightly over batch_max_events (generate's 1024
        // against the sinks' 1000) costs a few moves, not one per event.
        Batch rest(std::make_move_iterator(front.begin() + static_cast<std::ptrdiff_t>(room)),
                   std::make_move_iterator(front.end()));
        front.resize(room);
        out = std::move(front);
        front = std::move(rest);
        taken += room;
      } else if (front.size() <= room) {
        taken += front.size();
        out.insert(out.end(), std::make_move_iterator(front.begin()), std::make_move_iterator(front.end()));
        batches_.pop_front();
      } else {
        out.insert(out.end(), std::make_move_iterator(front.begin()),
                   std::make_move_iterator(front.begin() + static_cast<std::ptrdiff_t>(room)));
        front.erase(front.begin(), front.begin() + static_cast<std::ptrdiff_t>(room));
        taken += room;
      }
    }
    queued_ -= taken;
    used_ -= taken;
    if (depth_) depth_->set(static_cast<std::int64_t>(queued_));
  }

  mutable std::mutex mutex_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<Batch> batches_;
  std::size_t queued_ = 0;     // events in batches_
  std::size_t used_ = 0;       // queued_ plus reservations
  std::size_t lingering_ = 0;  // workers in pop() waiting for a batch to fill
  bool closed_ = false;
  const std::size_t max_;
  Gauge* depth_;
};

}  // namespace sluice::core
