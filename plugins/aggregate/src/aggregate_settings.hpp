#pragma once
// The `aggregate` transform's options: schema table, factory-side checks, and
// the settings the plugin runs with.
#include <sluice/sdk.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace sluice::aggregate {

enum class Op { Count, Sum, Min, Max, First, Last, Distinct };

/** One result per group: `views: count`, `revenue: {sum: price}`, `users: {distinct: user_id, max: 1000}`. */
struct Aggregation {
  std::string name;  ///< output field (a field reference: may be nested)
  FieldPath target;  ///< where the result goes in the output event
  Op op = Op::Count;
  std::optional<FieldPath> field;  ///< the input value (all but count)
  std::size_t distinct_max = 10000;
};

enum class TimeMode { Processing, Event };

struct Settings {
  std::vector<FieldPath> group_by;
  std::vector<Aggregation> aggregations;
  std::chrono::milliseconds window{5000};
  TimeMode time = TimeMode::Processing;
  std::optional<FieldPath> time_field;  ///< event time: a field; none = the event's timestamp
  std::chrono::milliseconds lateness{0};
  std::size_t max_groups = 100000;
  bool by_partition = false;
  std::optional<FieldPath> window_field;  ///< where {start, end} go; none = left out
};

const Schema& schema();
void check(const Config& config, ConfigIssues& issues);
/** The settings of a config check() accepted; throws std::runtime_error otherwise. */
Settings load_settings(const Config& config);

extern const char* const kDocs;

}  // namespace sluice::aggregate
