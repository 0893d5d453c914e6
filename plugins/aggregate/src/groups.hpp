#pragma once
// The open groups of the `aggregate` transform, by window: what an event adds
// to its group, and the events a closed group becomes. No clock of its own:
// every call is given the wall-clock time, so tests choose it.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "aggregate_settings.hpp"

namespace sluice::aggregate {

/** Why groups were emitted (a metric label). */
enum class EmitReason { Closed, MaxGroups, Flush };

class GroupTable {
 public:
  explicit GroupTable(const Settings& settings) : s_(settings) {}

  /**
   * Adds @p event to its group; its acknowledgement moves into the group. Groups emitted early to
   * stay within max_groups are appended to @p out. Throws ParseError (and changes nothing) when a
   * group or value field needs JSON the payload is not.
   */
  void add(Event& event, std::int64_t now_ms, Batch& out);
  /** Appends the groups whose window has closed at wall-clock @p now_ms. */
  void close_due(std::int64_t now_ms, Batch& out);
  /** Appends every group. */
  void flush(Batch& out);

  std::size_t groups() const noexcept { return size_; }
  /** Events emitted for @p reason so far. */
  std::uint64_t emitted(EmitReason reason) const noexcept { return emitted_[static_cast<int>(reason)]; }
  /** Values an aggregation could not use (a sum of a string, ...). */
  std::uint64_t skipped_values() const noexcept { return skipped_; }

 private:
  struct State {
    std::int64_t count = 0;
    std::int64_t isum = 0;
    double dsum = 0;
    bool is_float = false;
    Json value;  ///< min, max, first, last
    bool has_value = false;
    std::unordered_set<std::string> distinct;
  };
  struct Group {
    std::vector<std::optional<Json>> keys;  ///< one per group_by; nullopt: the field was missing
    std::vector<State> states;              ///< one per aggregation
    std::vector<AckHandle> acks;
    std::string topic;
    std::int32_t partition = -1;
    std::int64_t first_offset = -1;
    std::int64_t last_offset = -1;
  };
  struct Window {
    std::int64_t opened_ms = 0;  ///< wall clock when its first group opened
    std::unordered_map<std::string, Group> groups;
  };

  std::int64_t window_start(std::int64_t t) const noexcept;
  void update(State& st, const Aggregation& a, const std::optional<Json>& v);
  Event emit(std::int64_t start, Group& g) const;
  /** Emits the groups of the window at @p it and removes it; returns the next window. */
  std::map<std::int64_t, Window>::iterator emit_window(std::map<std::int64_t, Window>::iterator it,
                                                       Batch& out, EmitReason reason);

  const Settings& s_;
  std::map<std::int64_t, Window> windows_;  ///< by start
  std::size_t size_ = 0;
  std::int64_t watermark_ = INT64_MIN;  ///< event time: the latest event time seen
  std::uint64_t emitted_[3] = {0, 0, 0};
  std::uint64_t skipped_ = 0;
  std::string key_;  ///< scratch of add()
  std::vector<std::optional<Json>> keys_scratch_, values_scratch_;
};

}  // namespace sluice::aggregate
