#pragma once
// One running pipeline: a source thread, inline transforms, a bounded queue
// and worker threads per sink, an optional dead-letter sink, a ticker.
// Internal to the runtime (see docs/runtime.md for the behaviour).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/pipeline_config.hpp"
#include "loader.hpp"
#include "metrics_registry.hpp"
#include "runtime/sink_queue.hpp"
#include "runtime/tap.hpp"
#include "sluice/plugin.hpp"

namespace sluice::core {

/** A one-way "stop now" flag that sleepers can wait on. */
class StopSignal {
 public:
  void request() {
    {
      std::lock_guard lock(mutex_);
      flag_.store(true, std::memory_order_release);
    }
    cv_.notify_all();
  }
  bool requested() const noexcept { return flag_.load(std::memory_order_acquire); }
  /** Sleeps up to @p d; true when stop was requested. */
  bool wait_for(std::chrono::milliseconds d) const {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, d, [this] { return requested(); });
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::atomic<bool> flag_{false};
};

using ResourceMap = std::map<std::string, std::shared_ptr<Resource>>;

/** What every component context needs from the daemon. */
/**
 * Rethrows the exception being handled with @p context before its message, keeping its
 * class where `sluice run` reads it: an EnvironmentError stays one (exit 2), anything
 * else becomes a std::runtime_error (exit 1).
 */
[[noreturn]] void rethrow_with_context(const std::string& context);

struct RuntimeDeps {
  const PluginLoader* loader = nullptr;
  MetricsRegistry* registry = nullptr;
  HttpServers* http = nullptr;
  std::string data_dir;
  std::function<void()> on_finished;  ///< a pipeline finished (finite source drained)
};

class Pipeline;

/**
 * The gauge through which a source reports positions it cannot commit past (a Kafka
 * partition held at an event that was neither delivered nor dead-lettered): the core
 * registers it for every source, the source sets it (same name, same object), and
 * /health is 503 while it is above zero.
 */
inline constexpr const char* kStuckGauge = "sluice_source_stuck";

/** The counters the core keeps for one component. */
struct ComponentMetrics {
  Counter* in = nullptr;
  Counter* out = nullptr;
  Counter* failed = nullptr;
  Counter* retried = nullptr;
  Counter* dead_lettered = nullptr;
  Counter* dropped = nullptr;
  Gauge* stuck = nullptr;              ///< sources only: kStuckGauge, set by the source
  Gauge* queue_depth = nullptr;        ///< sinks only
  Histogram* batch_latency = nullptr;  ///< sinks only
  void init(Metrics& m, PluginKind kind);
  nlohmann::json to_json() const;
};

/** PluginContext (and SourceContext) of one component. */
class ComponentContext final : public SourceContext {
 public:
  ComponentContext(std::string pipeline, std::string id, const RuntimeDeps& deps,
                   std::shared_ptr<const StopSignal> stop, std::shared_ptr<const ResourceMap> resources,
                   Pipeline* owner);

  const std::string& pipeline() const override { return pipeline_; }
  const std::string& id() const override { return id_; }
  Logger& log() override { return *log_; }
  Metrics& metrics() override { return *metrics_; }
  HttpServers& http() override { return *http_; }
  const std::string& data_dir() const override { return data_dir_; }
  bool stopping() const noexcept override { return stop_->requested(); }
  bool wait_stop(std::chrono::milliseconds d) const override { return stop_->wait_for(d); }
  std::shared_ptr<Resource> resource(const std::string& name) override;
  void dead_letter(Event event, std::string reason) override;
  void set_problem(std::string problem) override;
  /** What set_problem() last reported ("" when nothing). */
  std::string problem() const;
  bool emit(Batch& batch) override;
  EmitResult try_emit(Batch& batch, std::chrono::milliseconds timeout) override;

  ComponentMetrics core_metrics;  ///< the runtime's own counters for this component
  TapPoint tap;                   ///< its output (a sink's: what reaches it), for `sluice tap`

 private:
  std::string pipeline_;
  std::string id_;
  std::shared_ptr<Logger> log_;
  std::unique_ptr<Metrics> metrics_;
  HttpServers* http_;
  std::string data_dir_;
  std::shared_ptr<const StopSignal> stop_;
  std::shared_ptr<const ResourceMap> resources_;
  Pipeline* owner_;
  mutable std::mutex problem_mu_;
  std::string problem_;
};

class Pipeline {
 public:
  using Clock = std::chrono::steady_clock;

  /** Creates every plugin of @p spec. Throws std::runtime_error naming the component. */
  Pipeline(PipelineSpec spec, const RuntimeDeps& deps, std::shared_ptr<const ResourceMap> resources);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  void start();
  /** Stops the source, drains within the shutdown timeout, completes every ack. Idempotent. */
  void stop();
  void reopen_sinks();
  bool finished() const noexcept { return finished_.load(std::memory_order_acquire); }
  /** True when the source's run() threw (the pipeline drained and stays down). */
  bool source_failed() const noexcept { return source_failed_.load(std::memory_order_acquire); }
  /** What happened to the events the source read (counters: cumulative since the process started). */
  struct Totals {
    std::uint64_t read = 0;           ///< events the source produced (emitted or dead-lettered itself)
    std::uint64_t dead_lettered = 0;  ///< events (or sink copies) sent to the dead-letter sink
    std::uint64_t failed = 0;         ///< events (or sink copies) acknowledged Failed
  };
  Totals totals() const;
  /** Why /health should fail for this pipeline (source failed or stuck); empty when healthy. */
  std::string health_problem() const;
  const PipelineSpec& spec() const noexcept { return spec_; }
  nlohmann::json status() const;
  /**
   * Attaches @p session to the output of component @p component: its id without the
   * pipeline's name (`source.http`, `transform.filter`, `dead_letter.file`), its role
   * alone when one component has it (`source`), its name, or "" for what reaches the
   * sinks. Returns the component's id; throws std::invalid_argument listing the choices.
   */
  std::string attach_tap(const std::string& component, std::shared_ptr<TapSession> session);

  // For ComponentContext.
  EmitResult emit(Batch& batch, Clock::time_point until);
  void dead_letter(ComponentContext& from, Batch events, const std::string& reason);
  void fail(ComponentContext& from, Batch& events, const std::string& reason);

 private:
  struct TransformSlot {
    const ComponentSpec* spec = nullptr;
    std::unique_ptr<ComponentContext> ctx;
    std::shared_ptr<Transform> plugin;
    std::mutex mutex;  // process/tick/flush never overlap on one instance
    std::chrono::milliseconds interval{0};
    Clock::time_point next_tick;
  };
  struct SinkSlot {
    const ComponentSpec* spec = nullptr;
    std::unique_ptr<ComponentContext> ctx;
    std::shared_ptr<Sink> plugin;
    std::unique_ptr<SinkQueue> queue;
    std::vector<std::thread> workers;
    std::atomic<std::size_t> active{0};
    bool dead_letter = false;
    bool async = false;  ///< Sink::asynchronous(): one worker, `concurrency` writes in flight
    std::mutex async_mu;
    std::condition_variable async_cv;
    std::size_t in_flight = 0;                       ///< asynchronous writes not completed yet
    std::deque<std::pair<Batch, WriteResult>> redo;  ///< completed writes that did not fully succeed
  };

  std::unique_ptr<ComponentContext> make_context(const ComponentSpec& c);
  /** @p plugin: the instance when the core provides it; otherwise the loader creates c's plugin. */
  void build_sink(SinkSlot& slot, const ComponentSpec& c, bool dead_letter,
                  std::shared_ptr<Sink> plugin = nullptr);
  /** The pipeline declares no dead-letter sink: events that cannot be delivered go to a file. */
  void build_default_dead_letter();

  EmitResult deliver(Batch& batch, std::size_t first_transform, Clock::time_point until,
                     const std::function<bool()>& abort);
  void run_transforms(Batch& batch, std::size_t first);
  void source_main();
  void ticker_main();
  void end_input();
  void sink_worker(SinkSlot& slot);
  void async_sink_worker(SinkSlot& slot);
  void settle_redo(SinkSlot& slot);
  /** Writes until every event has an outcome; @p first: the verdict of a write already done. */
  void write_with_retry(SinkSlot& slot, Batch& batch, WriteResult* first = nullptr);
  void reject(SinkSlot& slot, Batch& events, const std::string& reason);
  void on_worker_exit(SinkSlot& slot);
  void finish();
  bool past_deadline() const noexcept;
  void wake_queues();

  PipelineSpec spec_;
  RuntimeDeps deps_;
  std::shared_ptr<const ResourceMap> resources_;
  std::shared_ptr<StopSignal> stop_ = std::make_shared<StopSignal>();
  std::shared_ptr<Logger> log_;

  std::unique_ptr<ComponentContext> source_ctx_;
  std::shared_ptr<Source> source_;
  std::vector<std::unique_ptr<TransformSlot>> transforms_;
  std::vector<std::unique_ptr<SinkSlot>> sinks_;
  std::unique_ptr<SinkSlot> dlq_;
  ComponentSpec default_dead_letter_spec_;  ///< dlq_'s spec when the pipeline declares none

  std::thread source_thread_;
  std::thread ticker_thread_;
  std::mutex ticker_mutex_;
  std::condition_variable ticker_cv_;
  bool ticker_stop_ = false;

  std::atomic<bool> input_ended_{false};
  std::atomic<std::size_t> main_sinks_active_{0};
  std::atomic<std::size_t> emits_in_flight_{0};
  // Set when the shutdown deadline passed: retries and waits give up, leftovers fail.
  std::shared_ptr<StopSignal> hard_stop_ = std::make_shared<StopSignal>();
  std::atomic<std::int64_t> deadline_ns_{INT64_MAX};  // steady clock, set by stop()
  std::atomic<bool> finished_{false};
  mutable std::mutex finish_mutex_;
  std::condition_variable finish_cv_;
  std::atomic<bool> source_failed_{false};
  std::atomic<bool> finish_signalled_{false};
  std::atomic<bool> started_{false};
  std::mutex lifecycle_mutex_;
  enum class State { Created, Running, Stopped } state_ = State::Created;
};

}  // namespace sluice::core
