// Acknowledgements: worst status wins, the callback runs exactly once.
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include "sluice/ack.hpp"

using sluice::Ack;
using sluice::AckHandle;
using sluice::AckStatus;

namespace {

struct Recorder {
  std::atomic<int> calls{0};
  std::optional<AckStatus> status;
  sluice::AckNode::Callback callback() {
    return [this](AckStatus s) {
      ++calls;
      status = s;
    };
  }
};

}  // namespace

TEST(Ack, CompletesWhenLastCopyIsReleased) {
  Recorder r;
  AckHandle a = Ack::create(r.callback());
  AckHandle b = a;
  AckHandle c = b;
  a.release(AckStatus::Delivered);
  b.reset();
  EXPECT_EQ(r.calls, 0);
  c.release(AckStatus::Delivered);
  EXPECT_EQ(r.calls, 1);
  EXPECT_EQ(r.status, AckStatus::Delivered);
  EXPECT_FALSE(c);
}

TEST(Ack, WorstStatusWins) {
  Recorder r;
  {
    AckHandle a = Ack::create(r.callback());
    AckHandle b = a;
    AckHandle c = a;
    b.release(AckStatus::Failed);
    a.release(AckStatus::DeadLettered);
    // c destroyed without release: counts as Delivered, does not improve the result.
  }
  EXPECT_EQ(r.calls, 1);
  EXPECT_EQ(r.status, AckStatus::Failed);
}

TEST(Ack, DeadLetteredBeatsDelivered) {
  Recorder r;
  AckHandle a = Ack::create(r.callback());
  AckHandle b = a;
  a.release(AckStatus::DeadLettered);
  b.release(AckStatus::Delivered);
  EXPECT_EQ(r.status, AckStatus::DeadLettered);
}

TEST(Ack, MovedFromHandleReleasesNothing) {
  Recorder r;
  AckHandle a = Ack::create(r.callback());
  AckHandle b = std::move(a);
  a.release(AckStatus::Failed);  // empty: no effect
  EXPECT_EQ(r.calls, 0);
  b.reset();
  EXPECT_EQ(r.status, AckStatus::Delivered);
}

TEST(Ack, JoinReleasesEveryParentWithTheChildStatus) {
  Recorder p1, p2, p3;
  std::vector<AckHandle> parents;
  parents.push_back(Ack::create(p1.callback()));
  parents.push_back(Ack::create(p2.callback()));
  parents.push_back(AckHandle());  // empty: skipped
  AckHandle other_copy_of_p3 = Ack::create(p3.callback());
  parents.push_back(other_copy_of_p3);
  AckHandle joined = Ack::join(std::move(parents));
  ASSERT_TRUE(joined);
  AckHandle copy = joined;
  joined.release(AckStatus::DeadLettered);
  EXPECT_EQ(p1.calls, 0);
  copy.release(AckStatus::Delivered);
  EXPECT_EQ(p1.status, AckStatus::DeadLettered);
  EXPECT_EQ(p2.status, AckStatus::DeadLettered);
  EXPECT_EQ(p3.calls, 0);  // still held by other_copy_of_p3
  other_copy_of_p3.release(AckStatus::Delivered);
  EXPECT_EQ(p3.status, AckStatus::DeadLettered);
}

TEST(Ack, JoinOfNothingIsEmpty) {
  std::vector<AckHandle> none(2);
  EXPECT_FALSE(Ack::join(std::move(none)));
}

TEST(Ack, ExactlyOnceUnderConcurrentRelease) {
  for (int round = 0; round < 20; ++round) {
    Recorder r;
    AckHandle root = Ack::create(r.callback());
    std::vector<AckHandle> copies(64, root);
    root.reset();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&copies, t] {
        for (std::size_t i = static_cast<std::size_t>(t); i < copies.size(); i += 4)
          copies[i].release(i == 37 ? AckStatus::Failed : AckStatus::Delivered);
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(r.calls, 1);
    EXPECT_EQ(r.status, AckStatus::Failed);
  }
}

TEST(Ack, StatusNames) {
  EXPECT_STREQ(sluice::to_string(AckStatus::Delivered), "delivered");
  EXPECT_STREQ(sluice::to_string(AckStatus::DeadLettered), "dead_lettered");
  EXPECT_STREQ(sluice::to_string(AckStatus::Failed), "failed");
}
