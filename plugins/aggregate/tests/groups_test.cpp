// The group table on its own: windows, aggregations, max_groups, acknowledgements (wall clock given).
#include "groups.hpp"

#include <gtest/gtest.h>

namespace agg = sluice::aggregate;
using sluice::AckStatus;
using sluice::Batch;
using sluice::Event;
using sluice::Json;

namespace {

sluice::FieldPath path(const char* text) {
  return *sluice::FieldPath::parse(text);
}

agg::Aggregation aggregation(const char* name, agg::Op op, const char* field = nullptr) {
  agg::Aggregation a;
  a.name = name;
  a.target = path(name);
  a.op = op;
  if (field) a.field = path(field);
  return a;
}

agg::Settings counting(std::vector<const char*> group_by = {"item_id"}) {
  agg::Settings s;
  for (const char* g : group_by) s.group_by.push_back(path(g));
  s.aggregations.push_back(aggregation("views", agg::Op::Count));
  s.window = std::chrono::milliseconds(5000);
  s.window_field = path("window");
  return s;
}

Event event(const std::string& json) {
  return Event(json);
}

/** The emitted events' fields, by their group's item_id text. */
std::map<std::string, Json> by_item(const Batch& out) {
  std::map<std::string, Json> m;
  for (const Event& e : out) m[e.fields().value("item_id", Json()).dump()] = e.fields();
  return m;
}

}  // namespace

TEST(Groups, CountsPerKeyUntilTheProcessingWindowCloses) {
  const agg::Settings s = counting();
  agg::GroupTable t(s);
  Batch out;
  for (int i = 0; i < 5; ++i) {
    Event e = event(R"({"item_id": )" + std::to_string(i % 2) + R"(, "user": "u"})");
    t.add(e, 1000 + i, out);
  }
  Event later = event(R"({"item_id": 0})");
  t.add(later, 5200, out);  // the next window
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(t.groups(), 3u);
  t.close_due(4999, out);
  EXPECT_TRUE(out.empty()) << "the window [0, 5000) is still open";
  t.close_due(5000, out);
  ASSERT_EQ(out.size(), 2u);
  const auto got = by_item(out);
  EXPECT_EQ(got.at("0"), Json::parse(R"({"item_id":0,"views":3,"window":{"start":0,"end":5000}})"));
  EXPECT_EQ(got.at("1"), Json::parse(R"({"item_id":1,"views":2,"window":{"start":0,"end":5000}})"));
  EXPECT_EQ(out[0].timestamp_ms, 0);
  EXPECT_EQ(t.groups(), 1u);
  out.clear();
  t.flush(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].fields()["views"], 1);
  EXPECT_EQ(out[0].fields()["window"]["start"], 5000);
  EXPECT_EQ(t.groups(), 0u);
  EXPECT_EQ(t.emitted(agg::EmitReason::Closed), 2u);
  EXPECT_EQ(t.emitted(agg::EmitReason::Flush), 1u);
}

TEST(Groups, KeysKeepTypesApartAndAMissingFieldIsItsOwnGroup) {
  const agg::Settings s = counting({"item_id", "meta.key"});
  agg::GroupTable t(s);
  Batch out;
  for (const char* p : {R"({"item_id": 1})", R"({"item_id": "1"})", R"({"other": 1})", R"({"item_id": 1})"}) {
    Event e = event(p);
    e.meta.key = "k";
    t.add(e, 10, out);
  }
  t.flush(out);
  const auto got = by_item(out);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got.at("1")["views"], 2);
  EXPECT_EQ(got.at("\"1\"")["views"], 1);
  EXPECT_FALSE(got.at("null").contains("item_id")) << "a missing group field stays missing in the output";
  for (const Event& e : out) EXPECT_EQ(e.meta.key.value_or(""), "k") << "a metadata group field is set back";
}

TEST(Groups, SumMinMaxFirstLastAndABoundedDistinctCount) {
  agg::Settings s = counting({});
  s.aggregations = {aggregation("n", agg::Op::Count),
                    aggregation("total", agg::Op::Sum, "price"),
                    aggregation("cheapest", agg::Op::Min, "price"),
                    aggregation("dearest", agg::Op::Max, "price"),
                    aggregation("first", agg::Op::First, "user"),
                    aggregation("last", agg::Op::Last, "user"),
                    aggregation("users", agg::Op::Distinct, "user"),
                    aggregation("big", agg::Op::Sum, "big")};
  s.aggregations[6].distinct_max = 2;
  agg::GroupTable t(s);
  Batch out;
  for (const char* p : {R"({"price": 5, "user": "a", "big": 9223372036854775807})",
                        R"({"price": 2.5, "user": "b", "big": 1})", R"({"price": "free", "user": "c"})",
                        R"({"user": "a"})", R"({"price": 10, "user": "d"})"}) {
    Event e = event(p);
    t.add(e, 10, out);
  }
  t.flush(out);
  ASSERT_EQ(out.size(), 1u);
  const Json& f = out[0].fields();
  EXPECT_EQ(f["n"], 5);
  EXPECT_DOUBLE_EQ(f["total"].get<double>(), 17.5);
  EXPECT_EQ(f["cheapest"], 2.5);
  EXPECT_EQ(f["dearest"], 10);
  EXPECT_EQ(f["first"], "a");
  EXPECT_EQ(f["last"], "d");
  EXPECT_EQ(f["users"], 2) << "the distinct count stops at its max";
  EXPECT_TRUE(f["big"].is_number_float()) << "an integer sum that overflows goes on as a double";
  EXPECT_DOUBLE_EQ(f["big"].get<double>(), 9223372036854775808.0);
  EXPECT_EQ(t.skipped_values(), 3u) << "\"free\" for the sum, the min and the max";
}

TEST(Groups, EventTimeWindowsCloseByTheLatestEventTimeOrTheWallClockBound) {
  agg::Settings s = counting();
  s.time = agg::TimeMode::Event;
  s.time_field = path("ts");
  s.lateness = std::chrono::milliseconds(1000);
  agg::GroupTable t(s);
  Batch out;
  const std::int64_t wall = 1'000'000;
  Event a = event(R"({"item_id": 1, "ts": 100})");
  Event b = event(R"({"item_id": 1, "ts": 5500})");
  t.add(a, wall, out);
  t.add(b, wall, out);
  t.close_due(wall, out);
  EXPECT_TRUE(out.empty()) << "5500 is within the lateness of [0, 5000)";
  Event late = event(R"({"item_id": 1, "ts": 4000})");
  t.add(late, wall, out);
  Event c = event(R"({"item_id": 1, "ts": 6000})");
  t.add(c, wall, out);
  t.close_due(wall, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].fields()["views"], 2) << "the late event was still counted in its window";
  EXPECT_EQ(out[0].fields()["window"]["start"], 0);
  out.clear();
  t.close_due(wall + 5000 + 1000 - 1, out);
  EXPECT_TRUE(out.empty());
  t.close_due(wall + 5000 + 1000, out);
  ASSERT_EQ(out.size(), 1u) << "no newer event: the wall clock closes [5000, 10000)";
  EXPECT_EQ(out[0].fields()["views"], 2);
  out.clear();
  Event after = event(R"({"item_id": 1, "ts": 200})");  // its window was emitted already
  t.add(after, wall + 7000, out);
  t.close_due(wall + 7000, out);
  ASSERT_EQ(out.size(), 1u) << "a late event is counted in a group of its own, not dropped";
  EXPECT_EQ(out[0].fields()["views"], 1);
}

TEST(Groups, MaxGroupsEmitsTheOldestEarlyAndDropsNothing) {
  agg::Settings s = counting();
  s.max_groups = 2;
  agg::GroupTable t(s);
  Batch out;
  int sent = 0;
  for (int round = 0; round < 3; ++round)
    for (int item = 0; item < 5; ++item) {
      Event e = event(R"({"item_id": )" + std::to_string(item) + "}");
      t.add(e, 10 + round * 6000, out);
      ++sent;
      EXPECT_LE(t.groups(), 2u);
    }
  t.flush(out);
  std::int64_t counted = 0;
  for (const Event& e : out) counted += e.fields()["views"].get<std::int64_t>();
  EXPECT_EQ(counted, sent);
  EXPECT_GT(t.emitted(agg::EmitReason::MaxGroups), 0u);
}

TEST(Groups, TheOutputAcknowledgementStandsForEveryCountedEvent) {
  const agg::Settings s = counting();
  agg::GroupTable t(s);
  std::vector<AckStatus> done;
  std::vector<sluice::AckHandle> sources;
  for (int i = 0; i < 3; ++i)
    sources.push_back(sluice::Ack::create([&done](AckStatus st) { done.push_back(st); }));
  Batch out;
  // Two events of one source run (copies of one handle), one of another, one of a third in another group.
  for (auto [src, item] : std::vector<std::pair<int, int>>{{0, 1}, {0, 1}, {1, 1}, {2, 2}}) {
    Event e = event(R"({"item_id": )" + std::to_string(item) + "}");
    e.ack = sources[static_cast<std::size_t>(src)];
    t.add(e, 10, out);
    EXPECT_FALSE(e.ack) << "the group holds the acknowledgement";
  }
  for (auto& h : sources) h.reset();
  EXPECT_TRUE(done.empty()) << "nothing completes while the groups are held";
  t.flush(out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(done.empty()) << "nor before the output is written";
  for (Event& e : out)
    if (e.fields()["item_id"] == 2) e.ack.release(AckStatus::DeadLettered);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0], AckStatus::DeadLettered);
  for (Event& e : out) e.ack.reset();
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[1], AckStatus::Delivered);
  EXPECT_EQ(done[2], AckStatus::Delivered);
}

TEST(Groups, AnEventThatIsNotJsonChangesNothing) {
  const agg::Settings s = counting();
  agg::GroupTable t(s);
  Batch out;
  Event good = event(R"({"item_id": 1})");
  t.add(good, 10, out);
  Event bad = event(R"({"item_id": 1,)");
  bad.ack = sluice::Ack::create([](AckStatus) {});
  EXPECT_THROW(t.add(bad, 10, out), sluice::ParseError);
  EXPECT_TRUE(bad.ack) << "the caller still holds it (to dead-letter the event)";
  t.flush(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].fields()["views"], 1);
}

TEST(Groups, ByPartitionKeepsPartitionsApartWithTheirOffsets) {
  agg::Settings s = counting();
  s.by_partition = true;
  agg::GroupTable t(s);
  Batch out;
  for (auto [part, offset] : std::vector<std::pair<int, int>>{{0, 7}, {1, 3}, {0, 8}, {0, 9}}) {
    Event e = event(R"({"item_id": 1})");
    e.meta.topic = "page-views";
    e.meta.partition = part;
    e.meta.offset = offset;
    t.add(e, 10, out);
  }
  t.flush(out);
  ASSERT_EQ(out.size(), 2u);
  for (const Event& e : out) {
    EXPECT_EQ(e.meta.topic, "page-views");
    if (e.meta.partition == 0) {
      EXPECT_EQ(e.fields()["views"], 3);
      EXPECT_EQ(e.meta.offset, 9);
      EXPECT_EQ(*e.meta.attribute("first_offset"), "7");
    } else {
      EXPECT_EQ(e.fields()["views"], 1);
      EXPECT_EQ(e.meta.offset, 3);
    }
  }
}
