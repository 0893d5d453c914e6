// Pipeline: the data path (emit → transforms → sink queues → workers), retry
// and dead-lettering, and the drain-and-stop sequence.
#include "runtime/pipeline.hpp"

#include <algorithm>
#include <random>
#include <stdexcept>

#include "logging.hpp"
#include "runtime/dead_letter_file.hpp"
#include "sluice/secret.hpp"

namespace sluice::core {

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t to_ns(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

void release_all(Batch& events, AckStatus status) {
  for (auto& e : events) e.ack.release(status);
  events.clear();
}

std::string exception_text() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace

void rethrow_with_context(const std::string& context) {
  try {
    throw;
  } catch (const EnvironmentError& e) {
    throw EnvironmentError(context + e.what());
  } catch (...) {
    throw std::runtime_error(context + exception_text());
  }
}

namespace {

/** Full-jitter exponential backoff: uniform in [0, min(max, initial * 2^(retry-1))]. */
std::chrono::milliseconds backoff(std::size_t retry, std::chrono::milliseconds initial,
                                  std::chrono::milliseconds max) {
  std::int64_t cap = std::max<std::int64_t>(initial.count(), 1);
  for (std::size_t i = 1; i < retry && cap < max.count(); ++i) cap *= 2;
  cap = std::min<std::int64_t>(cap, std::max<std::int64_t>(max.count(), 1));
  thread_local std::minstd_rand rng{std::random_device{}()};
  return std::chrono::milliseconds(std::uniform_int_distribution<std::int64_t>(0, cap)(rng));
}

}  // namespace

// ---------------------------------------------------------------------------
// ComponentMetrics, ComponentContext

void ComponentMetrics::init(Metrics& m, PluginKind kind) {
  in = &m.counter("sluice_events_in_total", "Events received by the component.");
  out = &m.counter("sluice_events_out_total", "Events passed on by the component (sinks: durably written).");
  failed = &m.counter("sluice_events_failed_total",
                      "Events that ended neither delivered nor dead-lettered (acknowledged as failed).");
  dead_lettered =
      &m.counter("sluice_events_dead_lettered_total", "Events the component sent to the dead-letter sink.");
  if (kind == PluginKind::Source)
    stuck = &m.gauge(kStuckGauge,
                     "Positions (e.g. Kafka partitions) the source cannot commit past: an event there was "
                     "neither delivered nor dead-lettered. It is consumed again after a restart.");
  if (kind == PluginKind::Transform)
    dropped = &m.counter("sluice_events_dropped_total", "Events a transform removed (or holds).");
  if (kind == PluginKind::Sink) {
    retried =
        &m.counter("sluice_events_retried_total", "Events whose write is retried after a temporary failure.");
    queue_depth = &m.gauge("sluice_queue_depth_events", "Events waiting in the sink's queue.");
    batch_latency = &m.histogram("sluice_batch_latency_seconds", "Duration of one sink write (one batch).",
                                 latency_buckets());
  }
}

nlohmann::json ComponentMetrics::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  auto put = [&j](const char* k, const Counter* c) {
    if (c) j[k] = c->value();
  };
  put("events_in", in);
  put("events_out", out);
  put("events_failed", failed);
  put("events_dead_lettered", dead_lettered);
  put("events_dropped", dropped);
  put("events_retried", retried);
  return j;
}

ComponentContext::ComponentContext(std::string pipeline, std::string id, const RuntimeDeps& deps,
                                   std::shared_ptr<const StopSignal> stop,
                                   std::shared_ptr<const ResourceMap> resources, Pipeline* owner)
    : pipeline_(std::move(pipeline)),
      id_(std::move(id)),
      log_(make_logger(id_)),
      metrics_(deps.registry->scoped(pipeline_, id_)),
      http_(deps.http),
      data_dir_(deps.data_dir),
      stop_(std::move(stop)),
      resources_(std::move(resources)),
      owner_(owner) {}

std::shared_ptr<Resource> ComponentContext::resource(const std::string& name) {
  if (resources_) {
    auto it = resources_->find(name);
    if (it != resources_->end()) return it->second;
  }
  throw std::runtime_error("resource '" + name + "' is not declared under resources:");
}

void ComponentContext::set_problem(std::string problem) {
  problem = safe_utf8(problem);
  std::lock_guard lock(problem_mu_);
  if (problem != problem_ && !problem.empty()) log_->warn("unhealthy: ", problem);
  if (problem.empty() && !problem_.empty()) log_->info("healthy again (was: ", problem_, ")");
  problem_ = std::move(problem);
}

std::string ComponentContext::problem() const {
  std::lock_guard lock(problem_mu_);
  return problem_;
}

void ComponentContext::dead_letter(Event event, std::string reason) {
  Batch b;
  b.push_back(std::move(event));
  if (owner_) {
    owner_->dead_letter(*this, std::move(b), reason);
  } else {
    log_->error("dropping an event (no pipeline, so no dead-letter sink): ", reason);
    if (core_metrics.failed) core_metrics.failed->inc();
    release_all(b, AckStatus::Failed);
  }
}

bool ComponentContext::emit(Batch& batch) {
  if (!owner_) throw std::logic_error("emit() called on a context that has no pipeline");
  return owner_->emit(batch, Clock::time_point::max()) == EmitResult::Accepted;
}

EmitResult ComponentContext::try_emit(Batch& batch, std::chrono::milliseconds timeout) {
  if (!owner_) throw std::logic_error("try_emit() called on a context that has no pipeline");
  return owner_->emit(batch, Clock::now() + timeout);
}

// ---------------------------------------------------------------------------
// Construction

Pipeline::Pipeline(PipelineSpec spec, const RuntimeDeps& deps, std::shared_ptr<const ResourceMap> resources)
    : spec_(std::move(spec)), deps_(deps), resources_(std::move(resources)), log_(make_logger(spec_.name)) {
  const ComponentSpec* current = &spec_.source;
  try {
    source_ctx_ = make_context(spec_.source);
    source_ctx_->core_metrics.init(source_ctx_->metrics(), PluginKind::Source);
    source_ = deps_.loader->create<Source>(*spec_.source.plugin, *source_ctx_, spec_.source.config);
    for (const auto& c : spec_.transforms) {
      current = &c;
      auto slot = std::make_unique<TransformSlot>();
      slot->spec = &c;
      slot->ctx = make_context(c);
      slot->ctx->core_metrics.init(slot->ctx->metrics(), PluginKind::Transform);
      slot->plugin = deps_.loader->create<Transform>(*c.plugin, *slot->ctx, c.config);
      slot->interval = slot->plugin->tick_interval();
      transforms_.push_back(std::move(slot));
    }
    for (const auto& c : spec_.sinks) {
      current = &c;
      auto slot = std::make_unique<SinkSlot>();
      build_sink(*slot, c, false);
      sinks_.push_back(std::move(slot));
    }
    if (spec_.dead_letter) {
      current = &*spec_.dead_letter;
      dlq_ = std::make_unique<SinkSlot>();
      build_sink(*dlq_, *spec_.dead_letter, true);
    } else if (!deps_.data_dir.empty()) {
      current = &default_dead_letter_spec_;
      build_default_dead_letter();
    }
  } catch (...) {
    rethrow_with_context("pipeline '" + spec_.name + "': cannot create " + current->id + " (type " +
                         current->type + "): ");
  }
  if (sinks_.empty()) throw std::runtime_error("pipeline '" + spec_.name + "' has no sink");
}

std::unique_ptr<ComponentContext> Pipeline::make_context(const ComponentSpec& c) {
  return std::make_unique<ComponentContext>(spec_.name, c.id, deps_, stop_, resources_, this);
}

void Pipeline::build_sink(SinkSlot& slot, const ComponentSpec& c, bool dead_letter,
                          std::shared_ptr<Sink> plugin) {
  if (!c.plugin && !plugin) throw std::runtime_error("plugin not resolved");
  slot.spec = &c;
  slot.dead_letter = dead_letter;
  slot.ctx = make_context(c);
  slot.ctx->core_metrics.init(slot.ctx->metrics(), PluginKind::Sink);
  slot.queue = std::make_unique<SinkQueue>(spec_.queue_max_events, slot.ctx->core_metrics.queue_depth);
  slot.plugin = plugin ? std::move(plugin) : deps_.loader->create<Sink>(*c.plugin, *slot.ctx, c.config);
  slot.async = slot.plugin->asynchronous();
}

void Pipeline::build_default_dead_letter() {
  // Run like a declared dead-letter sink (queue, worker, retries with backoff), so a full
  // disk is retried and, failing that, the event is acknowledged Failed, never dropped.
  ComponentSpec& c = default_dead_letter_spec_;
  c.kind = PluginKind::Sink;
  c.type = "dead-letter-file";
  c.name = "default";
  c.id = spec_.name + ".dead_letter.default";
  const std::string path = default_dead_letter_path(deps_.data_dir, spec_.name);
  auto file = std::make_shared<DeadLetterFile>(path, spec_.name);
  if (file->cut_bytes() > 0)
    log_->warn("the dead-letter file ", path, " ended in a partial record (", file->cut_bytes(),
               " bytes, left by a process killed while writing): cut; its event is dead-lettered again");
  dlq_ = std::make_unique<SinkSlot>();
  build_sink(*dlq_, c, true, std::move(file));
  log_->info("no dead_letter: declared; events that cannot be delivered are recorded in ", path);
}

Pipeline::~Pipeline() {
  stop();
  // Instances go before their contexts; sinks last, so nothing upstream can
  // still hand them events.
  source_.reset();
  for (auto& t : transforms_) t->plugin.reset();
  for (auto& s : sinks_) s->plugin.reset();
  if (dlq_) dlq_->plugin.reset();
}

// ---------------------------------------------------------------------------
// Data path

EmitResult Pipeline::emit(Batch& batch, Clock::time_point until) {
  // Counted before the stop check so end_input() can wait for emits in flight
  // (seq_cst on both sides: either it sees us, or we see the stop).
  emits_in_flight_.fetch_add(1);
  struct Leave {
    std::atomic<std::size_t>& n;
    ~Leave() { n.fetch_sub(1); }
  } leave{emits_in_flight_};
  if (stop_->requested() || input_ended_.load()) return EmitResult::Stopping;
  if (batch.empty()) return EmitResult::Accepted;
  const std::size_t n = batch.size();
  const EmitResult r = deliver(batch, 0, until, [this] { return stop_->requested(); });
  if (r == EmitResult::Accepted) source_ctx_->core_metrics.out->inc(n);
  return r;
}

EmitResult Pipeline::deliver(Batch& batch, std::size_t first_transform, Clock::time_point until,
                             const std::function<bool()>& abort) {
  const std::size_t n = batch.size();
  if (n == 0) return EmitResult::Accepted;
  // Room first: a batch that cannot be queued must come back untransformed.
  for (std::size_t i = 0; i < sinks_.size(); ++i) {
    const auto r = sinks_[i]->queue->reserve(n, until, abort);
    if (r != SinkQueue::ReserveResult::Reserved) {
      for (std::size_t j = 0; j < i; ++j) sinks_[j]->queue->cancel(n);
      return r == SinkQueue::ReserveResult::Timeout ? EmitResult::Full : EmitResult::Stopping;
    }
  }
  // The output of the stage the batch comes from: the source's, or a transform's tick or flush.
  (first_transform == 0 ? source_ctx_ : transforms_[first_transform - 1]->ctx)->tap.offer(batch);
  run_transforms(batch, first_transform);
  for (std::size_t i = 0; i < sinks_.size(); ++i) {
    SinkSlot& s = *sinks_[i];
    if (!batch.empty()) s.ctx->core_metrics.in->inc(batch.size());
    if (i + 1 < sinks_.size()) {
      Batch copy(batch);  // copies share the acks: every sink must complete them
      s.queue->push(std::move(copy), n);
    } else {
      s.queue->push(std::move(batch), n);
    }
  }
  batch.clear();
  return EmitResult::Accepted;
}

void Pipeline::run_transforms(Batch& batch, std::size_t first) {
  for (std::size_t i = first; i < transforms_.size() && !batch.empty(); ++i) {
    TransformSlot& t = *transforms_[i];
    const std::size_t in = batch.size();
    t.ctx->core_metrics.in->inc(in);
    try {
      std::lock_guard lock(t.mutex);
      t.plugin->process(batch);
    } catch (...) {
      // The batch may be half-changed; what is left goes to the dead-letter
      // sink rather than on, so a bad event cannot stall the pipeline.
      dead_letter(*t.ctx, std::move(batch), t.ctx->id() + ": " + exception_text());
      batch.clear();
      return;
    }
    t.ctx->core_metrics.out->inc(batch.size());
    if (batch.size() < in) t.ctx->core_metrics.dropped->inc(in - batch.size());
    t.ctx->tap.offer(batch);
  }
}

void Pipeline::dead_letter(ComponentContext& from, Batch events, const std::string& reason) {
  if (events.empty()) return;
  if (!dlq_) {
    fail(from, events, reason);
    return;
  }
  const std::size_t n = events.size();
  for (auto& e : events) e.meta.error = reason;
  from.core_metrics.dead_lettered->inc(n);
  dlq_->ctx->tap.offer(events);
  const auto r = dlq_->queue->reserve(n, Clock::time_point::max(),
                                      [this] { return hard_stop_->requested() || past_deadline(); });
  if (r != SinkQueue::ReserveResult::Reserved) {
    fail(*dlq_->ctx, events, "shutdown deadline passed before the dead-letter sink took it: " + reason);
    return;
  }
  dlq_->ctx->core_metrics.in->inc(n);
  dlq_->queue->push(std::move(events), n);
}

void Pipeline::fail(ComponentContext& from, Batch& events, const std::string& reason) {
  if (events.empty()) return;
  from.core_metrics.failed->inc(events.size());
  from.log().error(events.size(), " event(s) failed (acknowledged as failed): ", reason);
  release_all(events, AckStatus::Failed);
}

// ---------------------------------------------------------------------------
// Threads

void Pipeline::source_main() {
  try {
    source_->run(*source_ctx_);
  } catch (...) {
    source_failed_ = true;
    source_ctx_->log().error("source failed: ", exception_text());
  }
  if (!stop_->requested()) log_->info("source ended; draining the pipeline");
  end_input();
}

void Pipeline::ticker_main() {
  const auto abort = [this] { return hard_stop_->requested() || past_deadline(); };
  std::unique_lock lock(ticker_mutex_);
  while (!ticker_stop_) {
    auto next = Clock::time_point::max();
    for (const auto& t : transforms_)
      if (t->interval.count() > 0) next = std::min(next, t->next_tick);
    if (ticker_cv_.wait_until(lock, next, [this] { return ticker_stop_; })) break;
    lock.unlock();
    const auto now = Clock::now();
    for (std::size_t i = 0; i < transforms_.size(); ++i) {
      TransformSlot& t = *transforms_[i];
      if (t.interval.count() <= 0 || now < t.next_tick) continue;
      t.next_tick = now + t.interval;
      Batch out;
      try {
        std::lock_guard tl(t.mutex);
        t.plugin->tick(out);
      } catch (...) {
        t.ctx->log().error("tick failed: ", exception_text());
      }
      if (out.empty()) continue;
      t.ctx->core_metrics.out->inc(out.size());
      if (deliver(out, i + 1, Clock::time_point::max(), abort) != EmitResult::Accepted)
        fail(*t.ctx, out, "shutdown deadline passed before ticked events could be queued");
    }
    lock.lock();
  }
}

void Pipeline::end_input() {
  if (input_ended_.exchange(true)) return;
  while (emits_in_flight_.load() > 0 && !past_deadline())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  {
    std::lock_guard lock(ticker_mutex_);
    ticker_stop_ = true;
  }
  ticker_cv_.notify_all();
  if (ticker_thread_.joinable()) ticker_thread_.join();

  // Held events go through the rest of the chain, in order, before the queues close.
  const auto abort = [this] { return hard_stop_->requested() || past_deadline(); };
  for (std::size_t i = 0; i < transforms_.size(); ++i) {
    TransformSlot& t = *transforms_[i];
    Batch out;
    try {
      std::lock_guard lock(t.mutex);
      t.plugin->flush(out);
    } catch (...) {
      t.ctx->log().error("flush failed: ", exception_text());
    }
    if (out.empty()) continue;
    t.ctx->core_metrics.out->inc(out.size());
    if (deliver(out, i + 1, Clock::time_point::max(), abort) != EmitResult::Accepted)
      fail(*t.ctx, out, "shutdown deadline passed before flushed events could be queued");
  }
  for (auto& s : sinks_) s->queue->close();
}

void Pipeline::sink_worker(SinkSlot& slot) {
  const auto abort = [this] { return hard_stop_->requested(); };
  const std::size_t max = std::max<std::size_t>(slot.spec->batch_max_events, 1);
  Batch batch;
  while (slot.queue->pop(batch, max, slot.spec->batch_timeout, abort)) {
    write_with_retry(slot, batch);
    batch.clear();
  }
  on_worker_exit(slot);
}

void Pipeline::async_sink_worker(SinkSlot& slot) {
  const std::size_t window = std::max<std::size_t>(slot.spec->concurrency, 1);
  const std::size_t max = std::max<std::size_t>(slot.spec->batch_max_events, 1);
  const auto redo_waiting = [&slot] {
    std::lock_guard lock(slot.async_mu);
    return !slot.redo.empty();
  };
  // Failed writes come back here: stop waiting for new events to deal with them.
  const auto abort = [&] { return hard_stop_->requested() || redo_waiting(); };
  ComponentMetrics& m = slot.ctx->core_metrics;
  const AckStatus ok_status = slot.dead_letter ? AckStatus::DeadLettered : AckStatus::Delivered;
  for (;;) {
    settle_redo(slot);
    {
      std::unique_lock lock(slot.async_mu);
      slot.async_cv.wait(lock, [&] { return slot.in_flight < window || !slot.redo.empty(); });
      if (!slot.redo.empty()) continue;
      ++slot.in_flight;
    }
    auto batch = std::make_shared<Batch>();
    if (!slot.queue->pop(*batch, max, slot.spec->batch_timeout, abort)) {
      {
        std::lock_guard lock(slot.async_mu);
        --slot.in_flight;
      }
      if (redo_waiting() && !hard_stop_->requested()) continue;
      break;
    }
    Batch& events = *batch;
    // Verdicts that are all Ok are settled on the completing thread (its acks answer the
    // sources at once); anything else goes back to this thread, which may sleep to retry.
    WriteCompletion done = [this, &slot, &m, ok_status, batch, t0 = Clock::now()](WriteResult r) mutable {
      m.batch_latency->observe(std::chrono::duration<double>(Clock::now() - t0).count());
      std::unique_lock lock(slot.async_mu, std::defer_lock);
      if (r.per_event.empty() && r.outcome == Outcome::Ok) {
        m.out->inc(batch->size());
        release_all(*batch, ok_status);
        lock.lock();
      } else {
        lock.lock();
        slot.redo.emplace_back(std::move(*batch), std::move(r));
      }
      --slot.in_flight;
      batch.reset();
      lock.unlock();
      slot.async_cv.notify_all();
    };
    try {
      slot.plugin->write_async(events, std::move(done));
    } catch (...) {
      // Nothing was written and `done` will not be called: settle as a failed write.
      WriteResult r = WriteResult::retry("write threw: " + exception_text());
      Batch failed = std::move(events);
      {
        std::lock_guard lock(slot.async_mu);
        --slot.in_flight;
      }
      write_with_retry(slot, failed, &r);
    }
  }
  // The queue is closed (or the hard stop came): every write in flight still completes.
  for (;;) {
    settle_redo(slot);
    std::unique_lock lock(slot.async_mu);
    slot.async_cv.wait(lock, [&] { return slot.in_flight == 0 || !slot.redo.empty(); });
    if (slot.in_flight == 0 && slot.redo.empty()) break;
  }
  on_worker_exit(slot);
}

void Pipeline::settle_redo(SinkSlot& slot) {
  std::deque<std::pair<Batch, WriteResult>> items;
  {
    std::lock_guard lock(slot.async_mu);
    items.swap(slot.redo);
  }
  for (auto& [batch, result] : items) write_with_retry(slot, batch, &result);
}

void Pipeline::write_with_retry(SinkSlot& slot, Batch& batch, WriteResult* first) {
  const ComponentSpec& c = *slot.spec;
  ComponentMetrics& m = slot.ctx->core_metrics;
  const AckStatus ok_status = slot.dead_letter ? AckStatus::DeadLettered : AckStatus::Delivered;
  std::size_t rounds = 0;   // retries of any kind: the backoff grows with them
  std::size_t retries = 0;  // retries counted against retry_max_attempts (not Unavailable)
  while (!batch.empty()) {
    WriteResult r;
    if (first) {
      r = std::move(*first);
      first = nullptr;
    } else {
      const auto t0 = Clock::now();
      try {
        r = slot.plugin->write(batch);
      } catch (...) {
        r = WriteResult::retry("write threw: " + exception_text());
      }
      m.batch_latency->observe(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    if (!r.per_event.empty() && r.per_event.size() != batch.size())
      r = WriteResult::retry("sink returned " + std::to_string(r.per_event.size()) + " results for " +
                             std::to_string(batch.size()) + " events");

    Batch to_retry;
    std::string retry_reason;
    bool counted = false;           // some event asked for a Retry (rather than Unavailable)
    std::vector<bool> unavailable;  // per event of to_retry, when per_event verdicts mix both
    if (r.per_event.empty()) {
      if (r.outcome == Outcome::Ok) {
        m.out->inc(batch.size());
        release_all(batch, ok_status);
        return;
      }
      if (r.outcome == Outcome::Error) {
        reject(slot, batch, r.reason.empty() ? "sink reported an error" : r.reason);
        return;
      }
      to_retry = std::move(batch);
      retry_reason = r.reason;
      counted = r.outcome == Outcome::Retry;
    } else {
      Batch ok;
      std::vector<std::pair<std::string, Batch>> errors;  // grouped by reason, in order of first use
      for (std::size_t i = 0; i < batch.size(); ++i) {
        auto& [outcome, reason] = r.per_event[i];
        if (outcome == Outcome::Ok) {
          ok.push_back(std::move(batch[i]));
        } else if (outcome == Outcome::Retry || outcome == Outcome::Unavailable) {
          to_retry.push_back(std::move(batch[i]));
          unavailable.push_back(outcome == Outcome::Unavailable);
          if (retry_reason.empty()) retry_reason = reason;
          counted = counted || outcome == Outcome::Retry;
        } else {
          // A named reference, not the binding: clang 14 (the fuzz build) cannot capture bindings.
          const std::string& why = reason;
          auto it = std::find_if(errors.begin(), errors.end(), [&](const auto& e) { return e.first == why; });
          if (it == errors.end()) it = errors.insert(errors.end(), {reason, Batch{}});
          it->second.push_back(std::move(batch[i]));
        }
      }
      batch.clear();
      m.out->inc(ok.size());
      release_all(ok, ok_status);
      for (auto& [reason, events] : errors)
        reject(slot, events, reason.empty() ? "sink reported an error" : reason);
    }
    if (to_retry.empty()) return;
    if (retry_reason.empty()) retry_reason = "sink asked for a retry";

    ++rounds;
    if (counted) ++retries;
    if (counted && c.retry_max_attempts != 0 && retries > c.retry_max_attempts) {
      // Give up on the events that asked for a Retry; the Unavailable ones wait on.
      Batch give_up, wait_on;
      for (std::size_t i = 0; i < to_retry.size(); ++i)
        (i < unavailable.size() && unavailable[i] ? wait_on : give_up).push_back(std::move(to_retry[i]));
      reject(slot, give_up, retry_reason + " (gave up after " + std::to_string(retries - 1) + " retries)");
      if (wait_on.empty()) return;
      to_retry = std::move(wait_on);
      retries = 0;
    }
    if (hard_stop_->requested()) {
      fail(*slot.ctx, to_retry, "shutdown deadline passed while retrying: " + retry_reason);
      return;
    }
    m.retried->inc(to_retry.size());
    const auto wait = backoff(rounds, c.retry_initial_backoff, c.retry_max_backoff);
    slot.ctx->log().warn("write of ", to_retry.size(), " event(s) failed, retry ", rounds, " in ",
                         wait.count(), " ms: ", retry_reason);
    if (hard_stop_->wait_for(wait)) {
      fail(*slot.ctx, to_retry, "shutdown deadline passed while retrying: " + retry_reason);
      return;
    }
    batch = std::move(to_retry);
  }
}

void Pipeline::reject(SinkSlot& slot, Batch& events, const std::string& reason) {
  if (slot.dead_letter) {
    fail(*slot.ctx, events, "the dead-letter sink refused it: " + reason);
  } else {
    dead_letter(*slot.ctx, std::move(events), reason);
    events.clear();
  }
}

void Pipeline::on_worker_exit(SinkSlot& slot) {
  if (slot.active.fetch_sub(1) != 1) return;
  // The last worker of this sink: its last write is done.
  std::chrono::milliseconds budget = spec_.shutdown_timeout;
  const std::int64_t deadline = deadline_ns_.load();
  if (deadline != INT64_MAX) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::nanoseconds(deadline) - Clock::now().time_since_epoch());
    budget = std::max(left, std::chrono::milliseconds(100));
  }
  try {
    slot.plugin->flush(budget);
  } catch (...) {
    slot.ctx->log().error("flush failed: ", exception_text());
  }
  if (slot.dead_letter) {
    finish();
  } else if (main_sinks_active_.fetch_sub(1) == 1) {
    // No sink can dead-letter any more.
    if (dlq_)
      dlq_->queue->close();
    else
      finish();
  }
}

void Pipeline::finish() {
  if (finish_signalled_.exchange(true)) return;
  {
    std::lock_guard lock(finish_mutex_);
    finished_.store(true, std::memory_order_release);
  }
  finish_cv_.notify_all();
  if (!stop_->requested()) log_->info("pipeline finished");
  if (deps_.on_finished) deps_.on_finished();
}

bool Pipeline::past_deadline() const noexcept {
  const std::int64_t d = deadline_ns_.load(std::memory_order_relaxed);
  return d != INT64_MAX && to_ns(Clock::now()) >= d;
}

void Pipeline::wake_queues() {
  for (auto& s : sinks_) s->queue->wake();
  if (dlq_) dlq_->queue->wake();
}

// ---------------------------------------------------------------------------
// Lifecycle

void Pipeline::start() {
  std::lock_guard lock(lifecycle_mutex_);
  if (state_ != State::Created) return;
  state_ = State::Running;
  started_ = true;
  main_sinks_active_ = sinks_.size();
  auto launch = [this](SinkSlot& s) {
    const std::size_t n = s.async ? 1 : std::max<std::size_t>(s.spec->concurrency, 1);
    s.active = n;
    for (std::size_t k = 0; k < n; ++k)
      s.workers.emplace_back([this, &s] { s.async ? async_sink_worker(s) : sink_worker(s); });
  };
  for (auto& s : sinks_) launch(*s);
  if (dlq_) launch(*dlq_);
  const auto now = Clock::now();
  bool ticks = false;
  for (auto& t : transforms_) {
    if (t->interval.count() > 0) {
      t->next_tick = now + t->interval;
      ticks = true;
    }
  }
  if (ticks) ticker_thread_ = std::thread([this] { ticker_main(); });
  source_thread_ = std::thread([this] { source_main(); });
  log_->info("pipeline started (", sinks_.size(), " sink(s), ", transforms_.size(), " transform(s))");
}

void Pipeline::stop() {
  std::lock_guard lock(lifecycle_mutex_);
  if (state_ != State::Running) {
    state_ = State::Stopped;
    return;
  }
  state_ = State::Stopped;
  const auto deadline = Clock::now() + spec_.shutdown_timeout;
  deadline_ns_.store(to_ns(deadline));
  stop_->request();
  wake_queues();
  try {
    source_->stop();
  } catch (...) {
    source_ctx_->log().error("stop failed: ", exception_text());
  }
  if (source_thread_.joinable()) source_thread_.join();
  end_input();
  {
    std::unique_lock fl(finish_mutex_);
    finish_cv_.wait_until(fl, deadline, [this] { return finished_.load(); });
  }
  if (!finished_.load()) {
    log_->warn("shutdown deadline (", spec_.shutdown_timeout.count(),
               " ms) passed; events still queued are acknowledged as failed");
    hard_stop_->request();
    wake_queues();
  }
  for (auto& s : sinks_)
    for (auto& w : s->workers)
      if (w.joinable()) w.join();
  if (dlq_)
    for (auto& w : dlq_->workers)
      if (w.joinable()) w.join();
  for (auto& s : sinks_) {
    Batch left = s->queue->take_all();
    fail(*s->ctx, left, "shutdown deadline passed before delivery");
  }
  if (dlq_) {
    Batch left = dlq_->queue->take_all();
    fail(*dlq_->ctx, left, "shutdown deadline passed before the dead-letter sink took it");
  }
  finish();
  log_->info("pipeline stopped");
}

void Pipeline::reopen_sinks() {
  auto reopen = [](SinkSlot& s) {
    try {
      s.plugin->reopen();
    } catch (...) {
      s.ctx->log().error("reopen failed: ", exception_text());
    }
  };
  for (auto& s : sinks_) reopen(*s);
  if (dlq_) reopen(*dlq_);
}

Pipeline::Totals Pipeline::totals() const {
  Totals t;
  const ComponentMetrics& src = source_ctx_->core_metrics;
  t.read = src.out->value() + src.dead_lettered->value() + src.failed->value();
  auto add = [&t](const ComponentMetrics& m) {
    t.dead_lettered += m.dead_lettered->value();
    t.failed += m.failed->value();
  };
  add(src);
  for (const auto& tr : transforms_) add(tr->ctx->core_metrics);
  for (const auto& s : sinks_) add(s->ctx->core_metrics);
  if (dlq_) t.failed += dlq_->ctx->core_metrics.failed->value();
  return t;
}

std::string Pipeline::health_problem() const {
  if (source_failed()) return "source failed";
  const std::int64_t stuck = source_ctx_->core_metrics.stuck->value();
  if (stuck > 0)
    return "source position stuck on " + std::to_string(stuck) +
           " partition(s): an event was neither delivered nor dead-lettered (see the log)";
  std::string problems;
  auto add = [&problems](const ComponentContext& ctx) {
    if (std::string p = ctx.problem(); !p.empty())
      problems += (problems.empty() ? "" : "; ") + ctx.id() + ": " + p;
  };
  add(*source_ctx_);
  for (const auto& t : transforms_) add(*t->ctx);
  for (const auto& s : sinks_) add(*s->ctx);
  if (dlq_) add(*dlq_->ctx);
  return problems;
}

std::string Pipeline::attach_tap(const std::string& component, std::shared_ptr<TapSession> session) {
  struct Choice {
    const ComponentSpec* spec;
    TapPoint* point;
  };
  TapPoint& last = transforms_.empty() ? source_ctx_->tap : transforms_.back()->ctx->tap;
  std::vector<Choice> choices{{&spec_.source, &source_ctx_->tap}};
  for (const auto& t : transforms_) choices.push_back({t->spec, &t->ctx->tap});
  for (const auto& s : sinks_) choices.push_back({s->spec, &last});  // what reaches a sink
  if (dlq_) choices.push_back({dlq_->spec, &dlq_->ctx->tap});
  const std::string prefix = spec_.name + ".";
  auto local_id = [&](const ComponentSpec& c) { return c.id.substr(prefix.size()); };
  auto role = [&](const ComponentSpec& c) {
    const std::string local = local_id(c);
    return local.substr(0, local.find('.'));
  };
  if (component.empty()) {  // what reaches the sinks: the last stage's output
    choices[transforms_.size()].point->attach(std::move(session));
    return choices[transforms_.size()].spec->id;
  }
  // The one component with this local id, else with this name, else with this role.
  auto pick = [&](auto&& matches) -> const Choice* {
    const Choice* hit = nullptr;
    for (const Choice& c : choices) {
      if (!matches(*c.spec)) continue;
      if (hit) return nullptr;  // two: ambiguous
      hit = &c;
    }
    return hit;
  };
  const Choice* found = pick([&](const ComponentSpec& c) { return local_id(c) == component; });
  if (!found) found = pick([&](const ComponentSpec& c) { return c.name == component; });
  if (!found) found = pick([&](const ComponentSpec& c) { return role(c) == component; });
  if (!found) {
    std::string names;
    for (const Choice& c : choices) names += (names.empty() ? "" : ", ") + local_id(*c.spec);
    throw std::invalid_argument("pipeline '" + spec_.name + "' has no single component '" + component +
                                "' (its components: " + names + ")");
  }
  found->point->attach(std::move(session));
  return found->spec->id;
}

nlohmann::json Pipeline::status() const {
  using nlohmann::json;
  std::string state;
  {
    // Not under lifecycle_mutex_: it is held for the whole of stop().
    if (finished_.load())
      state = stop_->requested() ? "stopped" : (source_failed_ ? "failed" : "finished");
    else if (stop_->requested())
      state = "stopping";
    else if (input_ended_.load())
      state = "draining";
    else if (!started_.load())
      state = "created";
    else
      state = "running";
  }
  auto component = [](const ComponentSpec& c, const ComponentContext& ctx) {
    json j = {{"id", c.id}, {"type", c.type}, {"name", c.name}};
    j["counters"] = ctx.core_metrics.to_json();
    return j;
  };
  auto sink = [&](const SinkSlot& s) {
    json j = component(*s.spec, *s.ctx);
    j["queue_depth"] = s.queue->depth();
    j["queue_max"] = s.queue->max_events();
    j["concurrency"] = std::max<std::size_t>(s.spec->concurrency, 1);
    return j;
  };
  json j = {{"name", spec_.name}, {"file", spec_.file}, {"state", state}};
  if (const std::string problem = health_problem(); !problem.empty()) j["problem"] = problem;
  j["source"] = component(spec_.source, *source_ctx_);
  j["transforms"] = json::array();
  for (const auto& t : transforms_) j["transforms"].push_back(component(*t->spec, *t->ctx));
  j["sinks"] = json::array();
  for (const auto& s : sinks_) j["sinks"].push_back(sink(*s));
  j["dead_letter"] = dlq_ ? sink(*dlq_) : json(nullptr);
  if (const auto* file = dlq_ ? dynamic_cast<const DeadLetterFile*>(dlq_->plugin.get()) : nullptr)
    j["dead_letter"]["path"] = file->path();
  return j;
}

}  // namespace sluice::core
