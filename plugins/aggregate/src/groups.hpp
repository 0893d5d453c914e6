#pragma once
// The open groups of the `aggregate` transform, by window: what an event adds
// to its group, and the events a closed group becomes. No clock of its own:
// every call is given the wall-clock time, so tests choose it.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "aggregate_settings.hpp"

namespace sluice::aggregate {

/** Why groups were emitted (a metric label). */
enum class EmitReason { Closed, MaxGroups, Flush };

class GroupTable {
 public:
  explicit GroupTable(const Settings& settings);

  /**
   * Adds @p event to its group; its acknowledgement moves into the group. Groups emitted early to
   * stay within max_groups are appended to @p out. Throws ParseError (and changes nothing) when a
   * group or value field needs JSON the payload is not.
   */
  void add(Event& event, std::int64_t now_ms, Batch& out);
  /** Appends the groups whose window has closed at wall-clock @p now_ms. */
  void close_due(std::int64_t now_ms, Batch& out);
  /** Appends every group (counted as @p reason). */
  void flush(Batch& out, EmitReason reason = EmitReason::Flush);
  /** While held, max_groups emits nothing early (a replay closes windows where they closed before). */
  void set_hold(bool hold) noexcept { hold_ = hold; }

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
    /** Only for `distinct` (made on first use, kept for the group's next windows): a set is 56 bytes. */
    std::unique_ptr<std::unordered_set<std::string>> distinct;
    std::size_t distinct_count() const noexcept { return distinct ? distinct->size() : 0; }
    void reset();
  };
  /** One group. Kept (with the capacity of its vectors) when its window closes, for the next window. */
  struct Group {
    std::string key;                        ///< the lookup key (typed bytes of the group values)
    std::vector<std::optional<Json>> keys;  ///< one per group_by; nullopt: the field was missing
    std::vector<State> states;              ///< one per aggregation
    std::vector<AckHandle> acks;
    std::string topic;
    std::string origin;  ///< the source checkpoint's origin (the Kafka cluster), empty when none
    std::int32_t partition = -1;
    std::int64_t first_offset = -1;
    std::int64_t last_offset = -1;
  };
  /** The groups of one window behind a flat open-addressing index; both are reused by later windows. */
  struct Window {
    std::int64_t opened_ms = 0;
    std::vector<Group> groups;  ///< [0, used) are live
    std::size_t used = 0;
    std::vector<std::uint32_t> slots;  ///< group index + 1, 0 when free; a power of two long
    Group* find(std::string_view key, std::size_t hash);
    /** A new group for @p key (not present), its fields reset. */
    Group& insert(std::string_view key, std::size_t hash);
    void clear();
  };

  std::int64_t window_start(std::int64_t t) const noexcept;
  void update(State& st, const Aggregation& a, const std::optional<Json>& v);
  Event emit(std::int64_t start, Group& g) const;
  /** The output's fields as a JSON value (nested or metadata output fields). */
  void build_fields(std::int64_t start, Group& g, Event& out) const;
  /** Emits the groups of the window at @p it and removes it; returns the next window. */
  std::map<std::int64_t, Window>::iterator emit_window(std::map<std::int64_t, Window>::iterator it,
                                                       Batch& out, EmitReason reason);
  /** Appends @p v to key_ as typed bytes: 1 and "1" stay apart. */
  void append_key(const std::optional<Json>& v);

  const Settings& s_;
  /** Output payloads are written as text when every output field is a top-level payload field. */
  bool flat_output_ = false;
  bool hold_ = false;
  std::map<std::int64_t, Window> windows_;  ///< by start
  std::vector<Window> spare_;               ///< closed windows, kept for their memory
  std::size_t size_ = 0;
  std::int64_t watermark_ = INT64_MIN;  ///< event time: the latest event time seen
  std::uint64_t emitted_[3] = {0, 0, 0};
  std::uint64_t skipped_ = 0;
  std::string key_;  ///< scratch of add()
  std::vector<std::optional<Json>> keys_scratch_, values_scratch_;
};

}  // namespace sluice::aggregate
