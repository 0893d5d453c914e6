// The `aggregate` transform's options (see aggregate_settings.hpp).
#include "aggregate_settings.hpp"

#include <stdexcept>
#include <utility>

namespace sluice::aggregate {
namespace {

constexpr std::pair<const char*, Op> kOps[] = {{"sum", Op::Sum},   {"min", Op::Min},
                                               {"max", Op::Max},   {"first", Op::First},
                                               {"last", Op::Last}, {"distinct", Op::Distinct}};

/** A field reference, or nullopt with @p why. */
std::optional<FieldPath> field(const std::string& text, std::string& why) {
  std::string err;
  auto f = FieldPath::parse(text, &err);
  if (!f) why = "'" + text + "': " + err;
  return f;
}

/** The `aggregates` map; empty with @p why on the first mistake. */
std::vector<Aggregation> parse_aggregations(const YAML::Node& node, std::string& why) {
  std::vector<Aggregation> out;
  if (!node.IsMap() || node.size() == 0) {
    why = "expected a map of output field → aggregation (views: count, revenue: {sum: price})";
    return {};
  }
  for (const auto& kv : node) {
    Aggregation a;
    if (!kv.first.IsScalar()) {
      why = "an output field name must be text";
      return {};
    }
    a.name = kv.first.Scalar();
    const std::string at = "aggregate " + a.name + ": ";
    auto target = field(a.name, why);
    if (!target || target->is_meta()) {
      why = at + (target ? "the output must be a payload field, not metadata" : why);
      return {};
    }
    a.target = *target;
    const YAML::Node& spec = kv.second;
    if (spec.IsScalar()) {
      if (spec.Scalar() != "count") {
        why = at + "'" + spec.Scalar() + "' is not an aggregation: count, or a map such as {sum: price}";
        return {};
      }
      a.op = Op::Count;
      out.push_back(std::move(a));
      continue;
    }
    if (!spec.IsMap()) {
      why = at + "expected count, or a map such as {sum: price}";
      return {};
    }
    int ops = 0;
    for (const auto& [name, op] : kOps) {
      const YAML::Node f = spec[name];
      if (!f) continue;
      ++ops;
      a.op = op;
      if (!f.IsScalar()) {
        why = at + name + " takes one field reference";
        return {};
      }
      a.field = field(f.Scalar(), why);
      if (!a.field) {
        why = at + why;
        return {};
      }
    }
    if (ops != 1) {
      why = at + "exactly one of sum, min, max, first, last, distinct (with a field), or count";
      return {};
    }
    for (const auto& entry : spec) {
      const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : std::string("(not text)");
      bool known = key == "limit" && a.op == Op::Distinct;
      for (const auto& [name, op] : kOps) known = known || key == name;
      if (!known) {
        why = at + "unknown key '" + key + "'" + (key == "limit" ? " (limit bounds a distinct count)" : "");
        return {};
      }
    }
    if (const YAML::Node m = spec["limit"]) {
      long long v = 0;
      try {
        v = m.as<long long>();
      } catch (const YAML::Exception&) {
        v = 0;
      }
      if (v < 1 || v > 10000000) {
        why = at + "limit must be an integer from 1 to 10000000";
        return {};
      }
      a.distinct_max = static_cast<std::size_t>(v);
    }
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace

const Schema& schema() {
  static const Schema s =
      SchemaBuilder()
          .option("group_by", OptionType::StringList)
          .def("[]")
          .doc(
              "Field references whose values make a group (item_id, user.country, meta.key); the output "
              "event carries each. None: one group per window.")
          .option("aggregates", OptionType::Any)
          .required()
          .doc(
              "Map of output field → aggregation: `count`, or `{sum|min|max|first|last: field}`, or "
              "`{distinct: field, limit: N}` (a distinct count that stops growing at N values).")
          .option("window", OptionType::Duration)
          .def("5s")
          .range(1, 86400000)
          .doc("Length of the tumbling windows; a group is emitted when its window closes.")
          .option("time", OptionType::Enum)
          .choices({"processing", "event"})
          .def("processing")
          .doc(
              "processing: windows of the wall clock at arrival; event: windows of each event's own time "
              "(time_field).")
          .option("time_field", OptionType::Field)
          .def("meta.timestamp")
          .doc(
              "Event time: milliseconds since the epoch (a number) or the event's timestamp "
              "(meta.timestamp, e.g. the Kafka record time). An event without one counts at arrival.")
          .option("lateness", OptionType::Duration)
          .def("0ms")
          .range(0, 86400000)
          .doc(
              "Event time: how long past its end a window still takes events (by the latest event time "
              "seen, and at most window + lateness of wall clock after it opened).")
          .option("max_groups", OptionType::Int)
          .def("100000")
          .range(1, 100000000)
          .doc(
              "Most groups held at once (per partition with by_partition); a new group beyond it first "
              "emits the oldest window's groups early (never dropped), so memory stays bounded with many "
              "keys.")
          .option("by_partition", OptionType::Bool)
          .def("false")
          .doc(
              "Keep windows and groups per source partition (meta.topic, meta.partition): each output "
              "carries its partition, and meta.offset and meta.attr.first_offset give the offsets it "
              "covers, and meta.attr.origin the Kafka cluster they count in (the embedded one starts "
              "again at 0 each run: name it in a guard_key). With a Kafka source and processing time, each "
              "window's closing offset is recorded "
              "in the commit metadata before it is emitted and replayed by the partition's next owner "
              "(exactly-once counts with a guarded increment).")
          .option("window_field", OptionType::String)
          .def("window")
          .doc("Output field for {start, end} of the window (milliseconds since the epoch); empty: none.")
          .build();
  return s;
}

void check(const Config& config, ConfigIssues& issues) {
  std::string why;
  for (const std::string& g : config.strings("group_by"))
    if (!field(g, why)) issues.error(config, "group_by", why);
  if (config.has("aggregates") && parse_aggregations(config.node("aggregates"), why).empty())
    issues.error(config, "aggregates", why);
  if (const std::string w = config.str("window_field"); !w.empty()) {
    auto f = field(w, why);
    if (!f)
      issues.error(config, "window_field", why);
    else if (f->is_meta())
      issues.error(config, "window_field", "the window must go into a payload field, not metadata");
  }
  if (config.str("time") == "processing" && config.duration("lateness").count() > 0)
    issues.error(config, "lateness", "lateness is for time: event");
}

Settings load_settings(const Config& config) {
  Settings s;
  std::string why;
  for (const std::string& g : config.strings("group_by")) {
    auto f = field(g, why);
    if (!f) throw std::runtime_error(config.where("group_by") + ": " + why);
    s.group_by.push_back(std::move(*f));
  }
  s.aggregations = parse_aggregations(config.node("aggregates"), why);
  if (s.aggregations.empty()) throw std::runtime_error(config.where("aggregates") + ": " + why);
  s.window = config.duration("window");
  s.time = config.str("time") == "event" ? TimeMode::Event : TimeMode::Processing;
  if (s.time == TimeMode::Event) {
    auto f = field(config.str("time_field"), why);
    if (!f) throw std::runtime_error(config.where("time_field") + ": " + why);
    if (f->text() != "meta.timestamp") s.time_field = std::move(*f);
  }
  s.lateness = config.duration("lateness");
  s.max_groups = static_cast<std::size_t>(config.integer("max_groups"));
  s.by_partition = config.boolean("by_partition");
  if (const std::string w = config.str("window_field"); !w.empty()) s.window_field = FieldPath::parse(w);
  return s;
}

const char* const kDocs =
    "Counts, sums and other aggregations per group over tumbling windows. Each closed group becomes one "
    "event; the acknowledgements of the events it counts are joined into its own, so an at-least-once "
    "source (Kafka) commits a counted event only once the count is written. Shutdown and reload emit every "
    "open group.\n\n```yaml\ntransforms:\n  - type: aggregate\n    group_by: [item_id]\n    aggregates:\n"
    "      views: count\n      users: {distinct: user_id, limit: 100000}\n    window: 5s\n```\n";

}  // namespace sluice::aggregate
