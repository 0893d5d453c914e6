#pragma once
// Where the search page's searches run: the index it opens (embedded, or an
// Elasticsearch / OpenSearch cluster, through libsluice-search) and the pool of
// threads that query it, so that no HTTP event loop ever waits for the index.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sluice/plugin.hpp>
#include <sluice/search_index.hpp>

#include "srp_config.hpp"

namespace sluice::srp {

/**
 * The index @p settings name. `hosts: embedded`: the process's shared embedded index of the
 * daemon's data directory (the one the elasticsearch sink with `hosts: embedded` writes);
 * otherwise a client of the cluster (nothing is sent yet: a node that is down makes each
 * search throw, answered with 503). Throws std::runtime_error when the embedded index cannot
 * be opened (another process holds it).
 */
std::shared_ptr<SearchIndex> open_index(PluginContext& ctx, const BackendSettings& settings);

/**
 * A fixed set of threads running jobs in arrival order, with a bounded queue: submit() refuses
 * a job at once when the queue is full, so a slow index shows as 503s, never as memory.
 */
class SearchPool {
 public:
  /** A job: called once, with true on a search thread, or with false when the pool stops first. */
  using Job = std::function<void(bool run)>;
  SearchPool(std::size_t threads, std::size_t max_pending);
  ~SearchPool();
  SearchPool(const SearchPool&) = delete;
  SearchPool& operator=(const SearchPool&) = delete;

  /** Queues @p job; false (the job is not kept) when max_pending jobs wait or the pool stopped. */
  bool submit(Job job);
  /**
   * Stops taking jobs, lets the running ones finish, calls every job still waiting with
   * false (on this thread, so that it answers its request), and joins the threads. Idempotent.
   */
  void stop();

 private:
  void work();
  const std::size_t max_pending_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace sluice::srp
