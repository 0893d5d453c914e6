// The runtime through the test harness: backpressure, retry, dead letters,
// shutdown drain, reload, and transforms that hold events.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "sluice/sdk.hpp"
#include "sluice/testing.hpp"

using namespace std::chrono_literals;
using sluice::AckStatus;
using sluice::Event;
using sluice::Json;
using sluice::testing::Harness;

namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> numbered(int from, int n) {
  std::vector<std::string> out;
  for (int i = from; i < from + n; ++i) out.push_back(R"({"seq":)" + std::to_string(i) + "}");
  return out;
}

std::multiset<int> seqs(const std::vector<Event>& events) {
  std::multiset<int> out;
  for (const auto& e : events) out.insert(e.fields().at("seq").get<int>());
  return out;
}

/** Polls @p cond until true or @p timeout. */
template <typename F>
bool eventually(F cond, std::chrono::milliseconds timeout = 10s) {
  const auto until = Clock::now() + timeout;
  while (Clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return cond();
}

/** Every one of the @p n events injected at "in" was acknowledged as delivered. */
void expect_all_delivered(const Harness& h, std::size_t n) {
  const auto st = h.ack_statuses("in");
  EXPECT_EQ(st.size(), n);
  for (auto s : st) EXPECT_EQ(s, AckStatus::Delivered);
}

/** status() of the pipeline named @p name. */
Json pipeline_status(const Harness& h, const std::string& name) {
  const Json status = h.status();  // a named copy: range-for would not extend a temporary's life
  for (const auto& p : status["pipelines"])
    if (p["name"] == name) return p;
  return Json();
}

/**
 * Of events seq 1 (`bad`), 2 and 3 into pipeline p (capture sink `out`, `error_when: bad`,
 * dead letters to `dlq`): 1 was dead-lettered with the sink's reason, 2 and 3 delivered.
 */
void expect_first_dead_lettered(const Harness& h, int retried) {
  EXPECT_EQ(seqs(h.captured("out")), (std::multiset<int>{2, 3}));
  const auto dlq = h.captured("dlq");
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(dlq[0].fields().at("seq"), 1);
  EXPECT_EQ(dlq[0].meta.error, "capture: bad is set");
  EXPECT_EQ(h.ack_statuses("in"),
            (std::vector<AckStatus>{AckStatus::DeadLettered, AckStatus::Delivered, AckStatus::Delivered}));
  EXPECT_EQ(pipeline_status(h, "p")["sinks"][0]["counters"]["events_retried"], retried);
}

// ---------------------------------------------------------------------------
// Test-only plugins, registered with Harness::add_plugin.

const sluice::Schema& empty_schema() {
  static const sluice::Schema s;
  return s;
}

/** Marks events (so a test can tell whether a batch went through transforms) and counts instances. */
std::atomic<int> g_tag_instances{0};
class TagTransform final : public sluice::Transform {
 public:
  TagTransform(sluice::PluginContext&, const sluice::Config&) { ++g_tag_instances; }
  void process(sluice::Batch& batch) override {
    for (auto& e : batch) e.mutable_fields()["tagged"] = true;
  }
};

/** Holds every event until flush (or tick); merges them into one event with Ack::join when asked. */
const sluice::Schema& hold_schema() {
  static const sluice::Schema s = sluice::SchemaBuilder()
                                      .option("merge", sluice::OptionType::Bool)
                                      .def("false")
                                      .option("tick", sluice::OptionType::Duration)
                                      .def("0ms")
                                      .build();
  return s;
}
class HoldTransform final : public sluice::Transform {
 public:
  HoldTransform(sluice::PluginContext&, const sluice::Config& c)
      : merge_(c.boolean("merge")), tick_(c.duration("tick")) {}
  void process(sluice::Batch& batch) override {
    for (auto& e : batch) held_.push_back(std::move(e));
    batch.clear();
  }
  std::chrono::milliseconds tick_interval() const override { return tick_; }
  void tick(sluice::Batch& out) override { flush(out); }
  void flush(sluice::Batch& out) override {
    if (held_.empty()) return;
    if (!merge_) {
      for (auto& e : held_) out.push_back(std::move(e));
    } else {
      Json seqs = Json::array();
      std::vector<sluice::AckHandle> acks;
      for (auto& e : held_) {
        seqs.push_back(e.fields().at("seq"));
        acks.push_back(std::move(e.ack));
      }
      Event merged = Event::from_json({{"seq", -1}, {"merged", seqs}});
      merged.ack = sluice::Ack::join(std::move(acks));
      out.push_back(std::move(merged));
    }
    held_.clear();
  }

 private:
  bool merge_;
  std::chrono::milliseconds tick_;
  sluice::Batch held_;
};

/** A push source: try_emit batches of 5 until one comes back Full; records what it saw. */
struct ProbeResult {
  std::atomic<bool> got_full{false};
  std::atomic<bool> full_batch_untouched{false};
  std::atomic<int> accepted{0};
};
ProbeResult g_probe;
class ProbeSource final : public sluice::Source {
 public:
  ProbeSource(sluice::PluginContext&, const sluice::Config&) {}
  void run(sluice::SourceContext& ctx) override {
    for (int round = 0; round < 200 && !ctx.stopping(); ++round) {
      sluice::Batch b;
      for (int i = 0; i < 5; ++i) b.emplace_back(R"({"seq":)" + std::to_string(round * 5 + i) + "}");
      const auto r = ctx.try_emit(b, 20ms);
      if (r == sluice::EmitResult::Full) {
        bool untouched = b.size() == 5;
        for (const auto& e : b) untouched = untouched && !e.fields().contains("tagged");
        g_probe.full_batch_untouched = untouched;
        g_probe.got_full = true;
        return;
      }
      if (r == sluice::EmitResult::Accepted) {
        EXPECT_TRUE(b.empty());
        g_probe.accepted += 5;
      }
    }
  }
};

const sluice::PluginDescriptor kTag = sluice::describe<TagTransform>(sluice::PluginKind::Transform, "tag",
                                                                     "test: tags events", "", &empty_schema);
const sluice::PluginDescriptor kHold = sluice::describe<HoldTransform>(
    sluice::PluginKind::Transform, "hold", "test: holds events", "", &hold_schema);
const sluice::PluginDescriptor kProbe = sluice::describe<ProbeSource>(
    sluice::PluginKind::Source, "probe", "test: try_emit probe", "", &empty_schema);

std::unique_ptr<Harness> make_harness() {
  auto h = std::make_unique<Harness>();
  h->add_plugin(&kTag);
  h->add_plugin(&kHold);
  h->add_plugin(&kProbe);
  return h;
}

}  // namespace

TEST(Runtime, DeliversAndAcknowledges) {
  auto h = make_harness();
  h->start(R"(
pipelines:
  p:
    source: {type: inject, name: in}
    transforms:
      - {type: tag}
    sinks:
      - {type: capture, name: a}
      - {type: capture, name: b}
)");
  h->inject_json("in", numbered(0, 50));
  ASSERT_TRUE(h->wait_idle(10s));
  const auto a = h->captured("a");
  const auto b = h->captured("b");
  ASSERT_EQ(a.size(), 50u);
  ASSERT_EQ(b.size(), 50u);
  EXPECT_TRUE(a[0].fields().at("tagged").get<bool>());
  EXPECT_EQ(seqs(a), seqs(b));
  expect_all_delivered(*h, 50);
  const Json p = pipeline_status(*h, "p");
  EXPECT_EQ(p["state"], "running");
  EXPECT_EQ(p["sinks"][0]["counters"]["events_out"], 50);
  EXPECT_EQ(p["source"]["counters"]["events_out"], 50);
}

TEST(Runtime, BoundedQueueSlowsTheSource) {
  auto h = make_harness();
  h->start(R"(
pipelines:
  p:
    queue_max_events: 10
    source: {type: inject, name: in, batch_size: 5}
    sinks:
      - {type: capture, name: out, delay: 10ms, batch_max_events: 5}
)");
  std::atomic<bool> done{false};
  std::size_t max_depth = 0;
  std::thread sampler([&] {
    while (!done) {
      const Json p = pipeline_status(*h, "p");
      if (!p.is_null())
        max_depth = std::max<std::size_t>(max_depth, p["sinks"][0]["queue_depth"].get<std::size_t>());
      std::this_thread::sleep_for(1ms);
    }
  });
  const auto t0 = Clock::now();
  h->inject_json("in", numbered(0, 100));  // blocks while the queue is full
  const auto took = Clock::now() - t0;
  ASSERT_TRUE(h->wait_idle(20s));
  done = true;
  sampler.join();
  EXPECT_LE(max_depth, 10u);
  EXPECT_GT(max_depth, 0u);
  // 100 events, at most 10 queued + 5 being written: the rest had to wait for
  // at least (100 - 15) / 5 writes of 10 ms each.
  EXPECT_GE(took, 150ms);
  EXPECT_EQ(h->captured("out").size(), 100u);
}

TEST(Runtime, TryEmitReturnsFullWithoutTakingOrTransformingTheBatch) {
  g_probe.got_full = false;
  g_probe.full_batch_untouched = false;
  g_probe.accepted = 0;
  auto h = make_harness();
  h->start(R"(
pipelines:
  p:
    queue_max_events: 5
    source: {type: probe}
    transforms:
      - {type: tag}
    sinks:
      - {type: capture, name: out, delay: 300ms, batch_max_events: 5}
)");
  ASSERT_TRUE(eventually([] { return g_probe.got_full.load(); }));
  EXPECT_TRUE(g_probe.full_batch_untouched);
  EXPECT_GE(g_probe.accepted, 5);
  h->stop();
  EXPECT_EQ(h->captured("out").size(), static_cast<std::size_t>(g_probe.accepted.load()));
}

TEST(Runtime, RetriesThenSucceeds) {
  auto h = make_harness();
  h->start(R"(
pipelines:
  p:
    source: {type: inject, name: in}
    sinks:
      - {type: capture, name: out, fail_first: 2, retry_initial_backoff: 1ms, retry_max_backoff: 5ms}
)");
  h->inject_json("in", numbered(0, 3));
  ASSERT_TRUE(h->wait_idle(10s));
  EXPECT_EQ(h->captured("out").size(), 3u);
  for (auto s : h->ack_statuses("in")) EXPECT_EQ(s, AckStatus::Delivered);
  const Json sink = pipeline_status(*h, "p")["sinks"][0];
  EXPECT_EQ(sink["counters"]["events_retried"], 6);
  EXPECT_EQ(sink["counters"]["events_dead_lettered"], 0);
  EXPECT_NE(h->metrics_text().find("sluice_events_retried_total{pipeline=\"p\""), std::string::npos);
}

TEST(Runtime, UnavailableIsRetriedPastTheAttemptLimitAndNeverDeadLettered) {
  auto h = make_harness();
  h->start(R"(
pipelines:
  p:
    source: {type: inject, name: in}
    sinks:
      - {type: capture, name: out, unavailable_first: 6, retry_max_attempts: 1, retry_initial_backoff: 1ms, retry_max_backoff: 2ms}
    dead_letter: {type: capture, name: dlq}
)");
  h->inject_json("in", numbered(0, 3));
  ASSERT_TRUE(h->wait_idle(10s));
  EXPECT_EQ(h->captured("out").size(), 3u);
  EXPECT_TRUE(h->captured("dlq").empty());
  for (auto s : h->ack_statuses("in")) EXPECT_EQ(s, AckStatus::Delivered);
  EXPECT_FALSE(pipeline_status(*h, "p").contains("problem")) << "the problem is cleared once writes work";
}

TEST(Runtime, AnUnavailableSinkShowsItsProblemAndFailsAtTheHardStop) {
  auto h = make_harness();
  h->start(R"(
pipelines:
  p:
    source: {type: inject, name: in}
    shutdown_timeout: 300ms
    sinks:
      - {type: capture, name: out, unavailable_first: 100000000, retry_max_attempts: 1, retry_initial_backoff: 1ms, retry_max_backoff: 2ms}
    dead_letter: {type: capture, name: dlq}
)");
  h->inject_json("in", numbered(0, 2));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  std::string problem;
  while (problem.empty() && std::chrono::steady_clock::now() < deadline) {
    const Json p = pipeline_status(*h, "p");
    if (p.contains("problem")) problem = p["problem"].get<std::string>();
  }
  EXPECT_NE(problem.find("capture: unavailable_first"), std::string::npos) << problem;
  h->stop(1s);
  EXPECT_TRUE(h->captured("dlq").empty()) << "never dead-lettered for being unavailable";
  const auto st = h->ack_statuses("in");
  ASSERT_EQ(st.size(), 2u);
  for (auto s : st) EXPECT_EQ(s, AckStatus::Failed) << "not acknowledged: an at-least-once source redelivers";
}

TEST(Runtime, RetriesExhaustedGoToTheDeadLetterSinkWithTheReason) {
  auto h = make_harness();
  h->start(R"(
pipelines:
  p:
    source: {type: inject, name: in}
    sinks:
      - {type: capture, name: out, fail_first: 1000, retry_max_attempts: 2, retry_initial_backoff: 1ms, retry_max_backoff: 2ms}
    dead_letter: {type: capture, name: dlq}
)");
  h->inject_json("in", numbered(0, 4));
  ASSERT_TRUE(h->wait_idle(10s));
  EXPECT_TRUE(h->captured("out").empty());
  const auto dlq = h->captured("dlq");
  ASSERT_EQ(dlq.size(), 4u);
  EXPECT_NE(dlq[0].meta.error.find("capture: fail_first"), std::string::npos) << dlq[0].meta.error;
  EXPECT_NE(dlq[0].meta.error.find("gave up after 2 retries"), std::string::npos) << dlq[0].meta.error;
  const auto st = h->ack_statuses("in");
  ASSERT_EQ(st.size(), 4u);
  for (auto s : st) EXPECT_EQ(s, AckStatus::DeadLettered);
  const Json p = pipeline_status(*h, "p");
  EXPECT_EQ(p["sinks"][0]["counters"]["events_dead_lettered"], 4);
  EXPECT_EQ(p["dead_letter"]["counters"]["events_out"], 4);
}

TEST(Runtime, ErrorDeadLettersAtOnceAndOthersAreDelivered) {
  auto h = make_harness();
  h->start(R"(
pipelines:
  p:
    source: {type: inject, name: in}
    sinks:
      - {type: capture, name: out, error_when: bad}
    dead_letter: {type: capture, name: dlq}
)");
  h->inject_json("in", {R"({"seq":1,"bad":true})", R"({"seq":2,"bad":false})", R"({"seq":3})"});
  ASSERT_TRUE(h->wait_idle(10s));
  expect_first_dead_lettered(*h, 0);
}

TEST(Runtime, WithoutDeadLetterSinkRefusedEventsGoToTheDefaultFile) {
  auto h = make_harness();
  h->start(R"(
pipelines:
  p:
    source: {type: inject, name: in}
    sinks:
      - {type: capture, name: out, error_when: bad}
)");
  h->inject_json("in", {R"({"seq":1,"bad":true})", R"({"seq":2})"});
  ASSERT_TRUE(h->wait_idle(10s));
  // Recorded, so the source may move past it: dead-lettered, not failed.
  EXPECT_EQ(h->ack_statuses("in"), (std::vector<AckStatus>{AckStatus::DeadLettered, AckStatus::Delivered}));
  const Json p = pipeline_status(*h, "p");
  EXPECT_EQ(p["sinks"][0]["counters"]["events_failed"], 0);
  EXPECT_EQ(p["sinks"][0]["counters"]["events_dead_lettered"], 1);
  const std::string path = h->data_dir() + "/dead-letter/p.jsonl";
  EXPECT_EQ(p["dead_letter"]["path"], path);
  std::ifstream in(path);
  std::vector<Json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(Json::parse(line));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["payload"], Json::parse(R"({"seq":1,"bad":true})"));
  EXPECT_EQ(lines[0]["reason"], "capture: bad is set");
  EXPECT_EQ(lines[0]["pipeline"], "p");
}

TEST(Runtime, RefusedByTheDeadLetterSinkTooEventsFail) {
  auto h = make_harness();
  h->start(R"(
pipelines:
  p:
    source: {type: inject, name: in}
    sinks:
      - {type: capture, name: out, error_when: bad}
    dead_letter: {type: capture, name: dlq, error_when: bad}
)");
  h->inject_json("in", {R"({"seq":1,"bad":true})", R"({"seq":2})"});
  ASSERT_TRUE(h->wait_idle(10s));
  EXPECT_EQ(h->ack_statuses("in"), (std::vector<AckStatus>{AckStatus::Failed, AckStatus::Delivered}));
  EXPECT_EQ(pipeline_status(*h, "p")["dead_letter"]["counters"]["events_failed"], 1);
}

TEST(Runtime, StopDrainsWithinTheDeadlineAndLosesNoAcknowledgedEvent) {
  auto h = make_harness();
  h->start(R"(
pipelines:
  p:
    queue_max_events: 1000
    shutdown_timeout: 300ms
    source: {type: inject, name: in}
    sinks:
      - {type: capture, name: out, delay: 50ms, batch_max_events: 10}
)");
  h->inject_json("in", numbered(0, 200));  // 20 writes of 50 ms: more than the deadline
  const auto t0 = Clock::now();
  h->stop();
  const auto took = Clock::now() - t0;
  EXPECT_LT(took, 2s);
  const auto st = h->ack_statuses("in");
  ASSERT_EQ(st.size(), 200u);  // every ack completed
  const auto captured = seqs(h->captured("out"));
  std::size_t delivered = 0, failed = 0;
  for (std::size_t i = 0; i < st.size(); ++i) {
    if (st[i] == AckStatus::Delivered) {
      ++delivered;
      EXPECT_TRUE(captured.count(static_cast<int>(i))) << "event " << i << " acknowledged but not written";
    } else {
      ++failed;
    }
  }
  EXPECT_GT(delivered, 0u);
  EXPECT_GT(failed, 0u);  // the deadline cut the drain short
}

TEST(Runtime, StopWithTimeToSpareDeliversEverything) {
  auto h = make_harness();
  h->start(R"(
pipelines:
  p:
    shutdown_timeout: 10s
    source: {type: inject, name: in}
    sinks:
      - {type: capture, name: out, delay: 5ms, batch_max_events: 10}
)");
  h->inject_json("in", numbered(0, 100));
  h->stop();
  expect_all_delivered(*h, 100);
  EXPECT_EQ(h->captured("out").size(), 100u);
}

TEST(Runtime, ReloadKeepsUnchangedPipelinesAndLosesNothing) {
  g_tag_instances = 0;
  auto h = make_harness();
  const std::string a = R"(
  a:
    source: {type: inject, name: a}
    transforms: [{type: tag}]
    sinks: [{type: capture, name: a}]
)";
  h->start("pipelines:" + a + R"(
  b:
    source: {type: inject, name: b}
    transforms: [{type: tag}]
    sinks: [{type: capture, name: b, delay: 20ms, batch_max_events: 5}]
)");
  EXPECT_EQ(g_tag_instances, 2);
  h->inject_json("a", numbered(0, 10));
  h->inject_json("b", numbered(0, 30));
  h->reload("pipelines:" + a + R"(
  b:
    source: {type: inject, name: b}
    transforms: [{type: tag}]
    sinks: [{type: capture, name: b, delay: 1ms, batch_max_events: 5}]
)");
  EXPECT_EQ(g_tag_instances, 3);  // only b was rebuilt
  // b drained before it was replaced: nothing injected before the reload is lost.
  const auto st_b = h->ack_statuses("b");
  ASSERT_EQ(st_b.size(), 30u);
  for (auto s : st_b) EXPECT_EQ(s, AckStatus::Delivered);
  EXPECT_EQ(seqs(h->captured("b")).size(), 30u);

  // Both run after the reload; an invalid config is refused and changes nothing.
  EXPECT_THROW(h->reload("pipelines:\n  a:\n    source: {type: nope}\n    sinks: [{type: capture}]\n"),
               std::exception);
  EXPECT_EQ(g_tag_instances, 3);
  h->inject_json("a", numbered(10, 10));
  h->inject_json("b", numbered(30, 10));
  ASSERT_TRUE(h->wait_idle(10s));
  EXPECT_EQ(h->captured("a").size(), 20u);
  EXPECT_EQ(h->captured("b").size(), 40u);
  for (auto s : h->ack_statuses("a")) EXPECT_EQ(s, AckStatus::Delivered);
  EXPECT_EQ(pipeline_status(*h, "a")["state"], "running");
}

TEST(Runtime, HeldEventsAreAcknowledgedOnlyAfterFlush) {
  auto h = make_harness();
  h->start(R"(
pipelines:
  p:
    source: {type: inject, name: in, finite: true}
    transforms: [{type: hold}]
    sinks: [{type: capture, name: out}]
)");
  h->inject_json("in", numbered(0, 5));
  // Held: nothing reaches the sink and no ack completes while the pipeline runs.
  EXPECT_FALSE(h->wait_captured("out", 1, 200ms));
  EXPECT_TRUE(h->ack_statuses("in").empty());
  h->close("in");  // the finite source ends; the pipeline flushes and drains
  ASSERT_TRUE(h->wait_idle(10s));
  EXPECT_EQ(h->captured("out").size(), 5u);
  EXPECT_EQ(h->ack_statuses("in").size(), 5u);
  EXPECT_EQ(pipeline_status(*h, "p")["state"], "finished");
}

TEST(Runtime, TickEmitsHeldEventsAndJoinedAcksCompleteTogether) {
  auto h = make_harness();
  h->start(R"(
pipelines:
  p:
    source: {type: inject, name: in}
    transforms: [{type: hold, merge: true, tick: 30ms}]
    sinks: [{type: capture, name: out}]
)");
  h->inject_json("in", numbered(0, 4));
  ASSERT_TRUE(h->wait_captured("out", 1, 5s));
  ASSERT_TRUE(h->wait_idle(5s));
  const auto out = h->captured("out");
  ASSERT_GE(out.size(), 1u);
  std::size_t merged = 0;
  for (const auto& e : out) merged += e.fields().at("merged").size();
  EXPECT_EQ(merged, 4u);
  expect_all_delivered(*h, 4);
}

TEST(Runtime, PrometheusTextHasThePipelineMetrics) {
  auto h = make_harness();
  h->start(R"(
pipelines:
  p:
    source: {type: inject, name: in}
    sinks: [{type: capture, name: out}]
)");
  h->inject_json("in", numbered(0, 3));
  ASSERT_TRUE(h->wait_idle(10s));
  const std::string text = h->metrics_text();
  for (const char* name : {"sluice_events_in_total", "sluice_events_out_total", "sluice_events_failed_total",
                           "sluice_events_retried_total", "sluice_events_dead_lettered_total",
                           "sluice_queue_depth_events", "sluice_batch_latency_seconds_bucket"})
    EXPECT_NE(text.find(name), std::string::npos) << name;
  EXPECT_NE(text.find("le=\"+Inf\""), std::string::npos);
}

// ---------------------------------------------------------------------------
// Asynchronous sinks (Sink::write_async): the capture sink with `async: true`
// completes its writes one after another on a thread of its own.

TEST(Runtime, AsynchronousSinkHasConcurrencyWritesInFlight) {
  auto h = make_harness();
  h->start(R"(
pipelines:
  p:
    source: {type: inject, name: in}
    sinks:
      - {type: capture, name: out, async: true, delay: 50ms, batch_max_events: 1, concurrency: 3}
)");
  h->inject_json("in", numbered(0, 12));
  ASSERT_TRUE(h->wait_idle(20s));
  std::multiset<int> all;
  for (int i = 0; i < 12; ++i) all.insert(i);
  EXPECT_EQ(seqs(h->captured("out")), all);
  EXPECT_EQ(h->max_in_flight("out"), 3u) << "the window of writes in flight is `concurrency`";
  expect_all_delivered(*h, 12);
}

TEST(Runtime, AsynchronousSinkWithConcurrencyOneKeepsOrder) {
  auto h = make_harness();
  h->start(R"(
pipelines:
  p:
    source: {type: inject, name: in}
    sinks:
      - {type: capture, name: out, async: true, delay: 2ms, batch_max_events: 3}
)");
  h->inject_json("in", numbered(0, 30));
  ASSERT_TRUE(h->wait_idle(20s));
  const auto out = h->captured("out");
  ASSERT_EQ(out.size(), 30u);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(out[i].fields().at("seq"), i);
  EXPECT_EQ(h->max_in_flight("out"), 1u);
}

TEST(Runtime, AsynchronousSinkFailuresAreRetriedAndDeadLettered) {
  auto h = make_harness();
  h->start(R"(
pipelines:
  p:
    source: {type: inject, name: in}
    sinks:
      - {type: capture, name: out, async: true, fail_first: 2, error_when: bad, retry_initial_backoff: 1ms,
         retry_max_backoff: 5ms}
    dead_letter: {type: capture, name: dlq}
)");
  h->inject_json("in", {R"({"seq":1,"bad":true})", R"({"seq":2})", R"({"seq":3})"});
  ASSERT_TRUE(h->wait_idle(10s));
  expect_first_dead_lettered(*h, 6);
}

TEST(Runtime, AsynchronousSinkStopWaitsForWritesInFlight) {
  auto h = make_harness();
  h->start(R"(
pipelines:
  p:
    shutdown_timeout: 10s
    source: {type: inject, name: in}
    sinks:
      - {type: capture, name: out, async: true, delay: 5ms, batch_max_events: 10, concurrency: 4}
)");
  h->inject_json("in", numbered(0, 100));
  h->stop();
  expect_all_delivered(*h, 100);
  EXPECT_EQ(h->captured("out").size(), 100u);
}
