// The search page's index and search threads (see backend.hpp).
#include "backend.hpp"

#include <stdexcept>

#include "open_search_index.hpp"

namespace sluice::srp {

std::shared_ptr<SearchIndex> open_index(PluginContext& ctx, const BackendSettings& settings) {
  elasticsearch::ClientSettings client = settings.client;
  client.timeout = settings.timeout;
  return elasticsearch::open_search_index(ctx.log(), ctx.data_dir(), client, settings.embedded,
                                          settings.index);
}

SearchPool::SearchPool(std::size_t threads, std::size_t max_pending) : max_pending_(max_pending) {
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

SearchPool::~SearchPool() {
  stop();
}

bool SearchPool::submit(Job job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || jobs_.size() >= max_pending_) return false;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void SearchPool::stop() {
  std::deque<Job> left;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    left.swap(jobs_);
  }
  cv_.notify_all();
  for (Job& j : left) j(false);
  for (std::thread& t : threads_)
    if (t.joinable()) t.join();
}

void SearchPool::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job(true);
  }
}

}  // namespace sluice::srp
