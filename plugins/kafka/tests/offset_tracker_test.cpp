// The offset tracker stores only the lowest contiguous completed offset.
#include "offset_tracker.hpp"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace sluice::kafka {
namespace {

TEST(OffsetTracker, NothingToStoreBeforeTheFirstCompletion) {
  OffsetTracker t;
  t.add(10);
  t.add(11);
  EXPECT_EQ(t.take_store(), std::nullopt);
  EXPECT_EQ(t.in_flight(), 2u);
}

TEST(OffsetTracker, OutOfOrderCompletionStoresOnlyTheContiguousPrefix) {
  OffsetTracker t;
  for (std::int64_t o = 5; o <= 10; ++o) t.add(o);
  t.complete(10, AckStatus::Delivered);  // the last one first: nothing may be stored
  EXPECT_EQ(t.take_store(), std::nullopt);
  t.complete(7, AckStatus::Delivered);
  EXPECT_EQ(t.take_store(), std::nullopt);
  t.complete(5, AckStatus::Delivered);
  EXPECT_EQ(t.take_store(), 6);  // 5 done, 6 not: store 6 (the next offset to read)
  EXPECT_EQ(t.take_store(), std::nullopt) << "unchanged: nothing new to store";
  t.complete(6, AckStatus::DeadLettered);  // dead-lettered counts as done
  EXPECT_EQ(t.take_store(), 8);
  t.complete(9, AckStatus::Delivered);
  t.complete(8, AckStatus::Delivered);
  EXPECT_EQ(t.take_store(), 11);
  EXPECT_EQ(t.in_flight(), 0u);
}

TEST(OffsetTracker, GapsInOffsetsAreNotWaitedFor) {
  OffsetTracker t;  // compaction and transaction markers leave holes
  t.add(3);
  t.add(9);
  t.complete(9, AckStatus::Delivered);
  t.complete(3, AckStatus::Delivered);
  EXPECT_EQ(t.take_store(), 10);
}

TEST(OffsetTracker, FailedCompletionIsABarrier) {
  OffsetTracker t;
  for (std::int64_t o = 0; o < 4; ++o) t.add(o);
  t.complete(1, AckStatus::Failed);
  t.complete(2, AckStatus::Delivered);
  t.complete(3, AckStatus::Delivered);
  EXPECT_EQ(t.take_store(), std::nullopt);
  t.complete(0, AckStatus::Delivered);
  EXPECT_EQ(t.take_store(), 1) << "everything before the failure, nothing at or after it";
  EXPECT_TRUE(t.blocked());
  EXPECT_EQ(t.in_flight(), 0u);
  t.add(4);
  t.complete(4, AckStatus::Delivered);
  EXPECT_EQ(t.take_store(), std::nullopt);
}

TEST(OffsetTracker, DuplicateAndUnknownCompletionsAreIgnored) {
  OffsetTracker t;
  t.add(1);
  t.add(2);
  t.complete(1, AckStatus::Delivered);
  t.complete(1, AckStatus::Delivered);
  t.complete(42, AckStatus::Delivered);
  EXPECT_EQ(t.in_flight(), 1u);
  EXPECT_EQ(t.take_store(), 2);
}

TEST(OffsetTracker, ConcurrentCompletionsReachTheEnd) {
  OffsetTracker t;
  constexpr int n = 20000;
  for (int o = 0; o < n; ++o) t.add(o);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&t, k] {
      for (int o = n - 1 - k; o >= 0; o -= 4) t.complete(o, AckStatus::Delivered);  // descending: worst case
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(t.take_store(), n);
  EXPECT_EQ(t.in_flight(), 0u);
}

}  // namespace
}  // namespace sluice::kafka
