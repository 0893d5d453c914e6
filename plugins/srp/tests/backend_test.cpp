// The search threads: jobs run in arrival order, a full queue refuses at once,
// and stopping answers every job still waiting (called with false) instead of
// dropping it silently.
#include "backend.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

using sluice::srp::SearchPool;

TEST(SearchPool, RunsJobsInArrivalOrder) {
  std::mutex mu;
  std::vector<int> order;
  std::condition_variable cv;
  {
    SearchPool pool(1, 100);
    for (int i = 0; i < 50; ++i)
      ASSERT_TRUE(pool.submit([&, i](bool run) {
        std::lock_guard lock(mu);
        if (run) order.push_back(i);
        cv.notify_all();
      }));
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return order.size() == 50; }));
  }
  for (int i = 0; i < 50; ++i) EXPECT_EQ(order[i], i);
}

TEST(SearchPool, AFullQueueRefusesAtOnceAndStopAnswersTheWaitingJobs) {
  std::mutex gate_mu;
  std::condition_variable gate_cv;
  bool open = false;
  std::atomic<int> ran{0}, cancelled{0};
  SearchPool pool(1, 2);
  // The one thread is held by the first job; two more wait; the fourth is refused.
  ASSERT_TRUE(pool.submit([&](bool) {
    std::unique_lock lock(gate_mu);
    gate_cv.wait(lock, [&] { return open; });
    ++ran;
  }));
  // The first job may not have left the queue yet: give it the thread before filling the queue.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool second = false, third = false;
  while (!(second && third) && std::chrono::steady_clock::now() < deadline) {
    auto job = [&](bool run) { ++(run ? ran : cancelled); };
    if (!second)
      second = pool.submit(job);
    else if (!third)
      third = pool.submit(job);
  }
  ASSERT_TRUE(second && third);
  EXPECT_FALSE(pool.submit([&](bool run) { ++(run ? ran : cancelled); })) << "the queue holds 2";
  std::thread opener([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::lock_guard lock(gate_mu);
    open = true;
    gate_cv.notify_all();
  });
  pool.stop();  // the running job finishes; the two waiting are called with false
  opener.join();
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(cancelled.load(), 2);
  EXPECT_FALSE(pool.submit([](bool) {})) << "a stopped pool takes nothing";
}
