#pragma once
/**
 * @file metrics.hpp
 * @brief Metrics a plugin can register; the core exports them in Prometheus
 * text format on the admin endpoint, labelled with pipeline and component.
 */
#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sluice {

/** Monotonic counter. */
class Counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

/** Value that goes up and down. */
class Gauge {
 public:
  void set(std::int64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(std::int64_t d) noexcept { value_.fetch_add(d, std::memory_order_relaxed); }
  std::int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

/** Cumulative histogram with fixed upper bounds (seconds, bytes, ...). */
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v) noexcept;
  const std::vector<double>& bounds() const noexcept { return bounds_; }
  /** Count per bucket (not cumulative); the last is +Inf. */
  std::vector<std::uint64_t> counts() const;
  double sum() const noexcept;
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::vector<std::atomic<std::uint64_t>> buckets_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_micros_{0};
};

using Labels = std::vector<std::pair<std::string, std::string>>;

/**
 * Registry of one component's metrics. Names are Prometheus names
 * (`sluice_kafka_commits_total`); the core adds `pipeline` and `component`
 * labels. Registering the same name and labels twice returns the same object.
 * Returned references live as long as the component.
 */
class Metrics {
 public:
  virtual ~Metrics() = default;
  virtual Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {}) = 0;
  virtual Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {}) = 0;
  virtual Histogram& histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                               const Labels& labels = {}) = 0;
};

/** Latency buckets in seconds, 100 µs to 30 s. */
std::vector<double> latency_buckets();

}  // namespace sluice
