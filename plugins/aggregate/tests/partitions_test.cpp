// Windows per partition and their marks: recorded before a window is emitted, replayed by the next
// owner, failed when the partition is gone. The checkpoint here is an in-memory one; the Kafka one is
// tested against the mock cluster in plugins/kafka/tests.
#include "partitions.hpp"

#include <gtest/gtest.h>

#include <set>

namespace agg = sluice::aggregate;
using sluice::AckStatus;
using sluice::Batch;
using sluice::Checkpoint;
using sluice::Event;

namespace {

class Lines final : public sluice::Logger {
 public:
  bool enabled(sluice::LogLevel) const noexcept override { return true; }
  void write(sluice::LogLevel, std::string_view m) override { lines.emplace_back(m); }
  std::vector<std::string> lines;
};

/** A position whose marks live in memory: what a store would keep. */
class MemoryCheckpoint final : public Checkpoint {
 public:
  explicit MemoryCheckpoint(std::vector<std::int64_t> recovered = {}) : recovered_(std::move(recovered)) {}
  std::string name() const override { return "views[0]"; }
  std::string origin() const override { return "cluster-a"; }
  const std::vector<std::int64_t>& recovered() const noexcept override { return recovered_; }
  bool owned() const noexcept override { return owned_; }
  Result record(std::int64_t offset, std::string& why) override {
    if (!owned_) {
      why = "revoked";
      return Result::Lost;
    }
    if (refuse_) {
      why = "store away";
      return Result::Retry;
    }
    marks.push_back(offset);
    return Result::Recorded;
  }
  std::vector<std::int64_t> marks;
  bool owned_ = true;
  bool refuse_ = false;

 private:
  std::vector<std::int64_t> recovered_;
};

agg::Settings settings() {
  agg::Settings s;
  s.group_by.push_back(*sluice::FieldPath::parse("item_id"));
  agg::Aggregation a;
  a.name = "views";
  a.target = *sluice::FieldPath::parse("views");
  s.aggregations.push_back(a);
  s.window = std::chrono::milliseconds(1000);
  s.by_partition = true;
  return s;
}

/** View @p offset of partition 0, of item offset % 3, read through @p cp. */
Event view(std::int64_t offset, const std::shared_ptr<Checkpoint>& cp,
           std::vector<AckStatus>* acks = nullptr) {
  Event e("{\"item_id\": " + std::to_string(offset % 3) + "}");
  e.meta.topic = "views";
  e.meta.partition = 0;
  e.meta.offset = offset;
  e.meta.checkpoint = cp;
  if (acks) e.ack = sluice::Ack::create([acks](AckStatus s) { acks->push_back(s); });
  return e;
}

/** (item, first offset, last offset, count) of each output. */
using Output = std::tuple<int, std::int64_t, std::int64_t, int>;
std::set<Output> outputs(const Batch& out) {
  std::set<Output> s;
  for (const Event& e : out)
    s.emplace(e.fields()["item_id"].get<int>(), std::stoll(*e.meta.attribute("first_offset")), e.meta.offset,
              e.fields()["views"].get<int>());
  return s;
}

/** Adds views [from, to) read through @p cp at wall-clock @p now, their acks recorded in @p acks. */
void add_views(agg::Partitions& parts, std::int64_t from, std::int64_t to,
               const std::shared_ptr<Checkpoint>& cp, std::int64_t now, Batch& out,
               std::vector<AckStatus>* acks = nullptr) {
  for (std::int64_t o = from; o < to; ++o) {
    Event e = view(o, cp, acks);
    parts.add(e, now, out);
  }
}

}  // namespace

TEST(Partitions, AWindowIsEmittedOnlyOnceItsClosingOffsetIsRecorded) {
  const agg::Settings s = settings();
  Lines log;
  agg::Partitions parts(s, log);
  auto cp = std::make_shared<MemoryCheckpoint>();
  Batch out;
  add_views(parts, 0, 6, cp, 100, out);
  cp->refuse_ = true;
  parts.close_due(1100, out);
  EXPECT_TRUE(out.empty()) << "emitted before its mark was recorded";
  EXPECT_EQ(parts.groups(), 3u) << "held, not dropped";
  parts.close_due(1200, out);
  EXPECT_TRUE(out.empty());
  cp->refuse_ = false;
  parts.close_due(1300, out);
  EXPECT_EQ(cp->marks, std::vector<std::int64_t>({5}));
  EXPECT_EQ(outputs(out), (std::set<Output>{{0, 0, 3, 2}, {1, 1, 4, 2}, {2, 2, 5, 2}}));
  // Each count names where its offsets count, for a guard keyed by them (offsets restart in a new cluster).
  for (const Event& e : out) {
    ASSERT_NE(e.meta.attribute("origin"), nullptr);
    EXPECT_EQ(*e.meta.attribute("origin"), "cluster-a");
  }
}

TEST(Partitions, TheNextOwnerClosesTheRecordedWindowsAtTheSameOffsets) {
  const agg::Settings s = settings();
  Lines log;
  // The first owner: windows close by the wall clock after offsets 4 and 10; offsets 11-13 are still open
  // when it dies, and only offsets below 2 were committed.
  auto first = std::make_shared<MemoryCheckpoint>();
  Batch before;
  {
    agg::Partitions parts(s, log);
    std::int64_t now = 0;
    for (std::int64_t o = 0; o < 14; ++o) {
      Event e = view(o, first);
      parts.add(e, now, before);
      if (o == 4 || o == 10) parts.close_due(now += 1000, before);
    }
    ASSERT_EQ(first->marks, std::vector<std::int64_t>({4, 10}));
  }
  // The next owner resumes at offset 2 with the marks not behind it, and the wall clock moves on at
  // its own pace: none of that moves the windows.
  auto next = std::make_shared<MemoryCheckpoint>(std::vector<std::int64_t>{4, 10});
  agg::Partitions parts(s, log);
  Batch after;
  for (std::int64_t o = 2; o < 16; ++o) {
    Event e = view(o, next);
    parts.add(e, 50000, after);
    parts.close_due(50000 + 2000 * o, after);  // many windows' worth of wall clock, while replaying
  }
  // The replayed windows are (2..4] and (4..10]: each output either is one the first owner emitted
  // (same item, same last offset: the sink's guard skips it) or covers its events from offset 2 on.
  const std::set<Output> was = outputs(before);
  std::set<Output> replayed;
  for (const Output& o : outputs(after))
    if (std::get<2>(o) <= 10) replayed.insert(o);
  EXPECT_EQ(replayed, (std::set<Output>{{2, 2, 2, 1},
                                        {0, 3, 3, 1},
                                        {1, 4, 4, 1},  // (2..4]
                                        {2, 5, 8, 2},
                                        {0, 6, 9, 2},
                                        {1, 7, 10, 2}}))  // (4..10]
      << "the replay closed windows elsewhere";
  for (const Output& o : replayed) {
    bool same_last = false;
    for (const Output& w : was)
      same_last = same_last || (std::get<0>(w) == std::get<0>(o) && std::get<2>(w) == std::get<2>(o));
    EXPECT_TRUE(same_last) << "item " << std::get<0>(o) << " last offset " << std::get<2>(o);
  }
  EXPECT_TRUE(next->marks.size() >= 1u) << "after the replay, windows are recorded again";
  EXPECT_GT(next->marks.front(), 10);
}

TEST(Partitions, ARevokedPartitionsOpenAndHeldWindowsFailSoTheNextOwnerCountsThem) {
  const agg::Settings s = settings();
  Lines log;
  agg::Partitions parts(s, log);
  auto cp = std::make_shared<MemoryCheckpoint>();
  std::vector<AckStatus> acks;
  Batch out;
  add_views(parts, 0, 4, cp, 100, out, &acks);
  cp->owned_ = false;
  parts.close_due(1100, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(parts.groups(), 0u);
  EXPECT_EQ(acks, std::vector<AckStatus>(4, AckStatus::Failed)) << "a failed count must not be committed";
  EXPECT_EQ(parts.lost(), 3u);
}

TEST(Partitions, ANewAssignmentEndsTheOldOnesWindows) {
  const agg::Settings s = settings();
  Lines log;
  agg::Partitions parts(s, log);
  auto old_cp = std::make_shared<MemoryCheckpoint>();
  std::vector<AckStatus> acks;
  Batch out;
  add_views(parts, 0, 3, old_cp, 100, out, &acks);
  old_cp->owned_ = false;  // revoked, then assigned again: events of the new assignment arrive first
  auto new_cp = std::make_shared<MemoryCheckpoint>();
  Event e = view(0, new_cp);
  parts.add(e, 200, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(acks, std::vector<AckStatus>(3, AckStatus::Failed));
  parts.close_due(1100, out);
  EXPECT_EQ(outputs(out), (std::set<Output>{{0, 0, 0, 1}}));
  EXPECT_EQ(new_cp->marks, std::vector<std::int64_t>({0}));
}

TEST(Partitions, FlushEmitsWhatCanBeRecordedAndFailsTheRest) {
  const agg::Settings s = settings();
  Lines log;
  agg::Partitions parts(s, log);
  auto cp = std::make_shared<MemoryCheckpoint>();
  std::vector<AckStatus> acks;
  Batch out;
  add_views(parts, 0, 3, cp, 100, out, &acks);
  cp->refuse_ = true;
  parts.flush(out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(acks, std::vector<AckStatus>(3, AckStatus::Failed));
}

TEST(Partitions, WithoutACheckpointWindowsCloseByTheClockAlone) {
  const agg::Settings s = settings();
  Lines log;
  agg::Partitions parts(s, log);
  Batch out;
  for (std::int64_t o = 0; o < 4; ++o) {
    Event e = view(o, nullptr);
    e.meta.partition = static_cast<std::int32_t>(o % 2);
    parts.add(e, 100, out);
  }
  parts.close_due(1100, out);
  EXPECT_EQ(out.size(), 4u) << "items 0,1,2 on partition 0 or 1: one group per item and partition";
}
