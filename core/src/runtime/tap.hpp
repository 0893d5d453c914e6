#pragma once
// Taps (`sluice tap`): copies of the events passing one point of a pipeline, sampled
// up to a rate, for a listener that polls the admin endpoint. A point nobody listens to
// costs one relaxed atomic load per batch; a listener never slows the pipeline down:
// what is over its rate, or over what it has not fetched yet, is skipped and counted,
// never waited for.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sluice/event.hpp"
#include "sluice/plugin.hpp"

namespace sluice::core {

/**
 * One event as a tap prints it: its payload as JSON (as a JSON string when it is not
 * JSON), or with @p with_meta an object `{"payload": …, "meta": {…}}` whose headers
 * carrying credentials (Authorization, Cookie, tokens, keys, …) show as "[redacted]".
 * Always one line of valid UTF-8.
 */
std::string tap_line(const Event& event, bool with_meta);

/** What a poll of a session gets. */
struct TapTake {
  std::vector<std::string> lines;
  std::uint64_t skipped_rate = 0;      ///< events passed over by the rate, in total
  std::uint64_t skipped_overflow = 0;  ///< events passed over because the listener lagged, in total
  std::string closed;                  ///< why the session ended ("" while it runs)
};

/** One listener: its rate, its buffer of lines not fetched yet, and its waiting poll. */
class TapSession {
 public:
  using Clock = std::chrono::steady_clock;
  /** Sessions not polled for this long stop receiving (the listener went away). */
  static constexpr std::chrono::seconds kIdleExpiry{10};

  /**
   * @p rate: events per second at most (a token bucket holding up to one second's worth);
   * @p capacity: lines held for the listener between polls.
   */
  TapSession(double rate, bool with_meta, std::size_t capacity = 1000);

  /** Offers @p batch (a pipeline thread). False once the session has ended or expired: detach it. */
  bool offer(const Batch& batch);
  /**
   * The lines held now (up to @p max), or, when none is and the session runs, nothing
   * and @p on_data is kept to be called (once, from a pipeline thread or close()) when
   * lines arrive. Counts as a poll.
   */
  TapTake take(std::size_t max, std::function<void()> on_data = {});
  /** Puts back lines a take() got but could not deliver (ahead of newer ones, none dropped). */
  void give_back(std::vector<std::string> lines);
  /** Ends the session (the pipeline stopped or was replaced, or the listener left). */
  void close(const std::string& why);
  bool expired(Clock::time_point now) const;

 private:
  const double rate_;
  const bool with_meta_;
  const std::size_t capacity_;
  mutable std::mutex mu_;
  double tokens_;
  Clock::time_point refilled_;
  Clock::time_point polled_;
  std::deque<std::string> lines_;
  std::uint64_t skipped_rate_ = 0;
  std::uint64_t skipped_overflow_ = 0;
  std::string closed_;
  std::function<void()> on_data_;
};

/** One point of a pipeline that can be tapped (a component's output). Thread-safe. */
class TapPoint {
 public:
  ~TapPoint();
  /** True while a session listens. */
  bool active() const noexcept { return listeners_.load(std::memory_order_relaxed) != 0; }
  /** Hands @p batch to the sessions listening, if any. */
  void offer(const Batch& batch) {
    if (active()) offer_listening(batch);
  }
  void attach(std::shared_ptr<TapSession> session);
  /** Closes every session with @p why and forgets them. */
  void close_all(const std::string& why);

 private:
  void offer_listening(const Batch& batch);
  std::atomic<int> listeners_{0};
  std::mutex mu_;
  std::vector<std::shared_ptr<TapSession>> sessions_;
};

}  // namespace sluice::core
