#include "kafka_sink.hpp"

#include <condition_variable>

#include "embedded_cluster.hpp"

namespace sluice::kafka {

namespace {
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/** Errors that no retry can fix: the core dead-letters these at once. */
bool permanent(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS:
      return true;
    default:
      return false;
  }
}

const char* status_text(rd_kafka_msg_status_t s) {
  switch (s) {
    case RD_KAFKA_MSG_STATUS_NOT_PERSISTED:
      return "not persisted";
    case RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED:
      return "possibly persisted (a retry may duplicate it)";
    case RD_KAFKA_MSG_STATUS_PERSISTED:
      return "persisted";
  }
  return "unknown";
}
}  // namespace

/** One write: its messages' slots, and the completion their last delivery report calls. */
struct KafkaSink::WriteState {
  KafkaSink* sink = nullptr;
  std::atomic<std::size_t>* producer_writes = nullptr;  ///< its producer's writes in flight
  std::vector<Slot> slots;
  std::atomic<std::size_t> remaining{0};
  std::size_t bytes = 0;
  WriteCompletion done;

  void finish_one() {
    if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) sink->complete(this);
  }
};

struct KafkaSink::Producer : ClientBase {
  explicit Producer(Logger& l) : ClientBase(l) {}
  ~Producer() {
    if (rk) {
      // No write is in progress (the sink holds the producer lock exclusively): anything left
      // is from a failed producer; purge so its delivery reports free the handle.
      rd_kafka_purge(rk.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    }
    stop.store(true);
    if (poller.joinable()) poller.join();
    if (rk) rd_kafka_poll(rk.get(), 0);
    topics.clear();
    rk.reset();
  }

  static void dr_cb(rd_kafka_t* rk, const rd_kafka_message_t* msg, void* opaque) {
    (void)rk;
    (void)opaque;
    auto* slot = static_cast<Slot*>(msg->_private);
    if (!slot) return;
    if (msg->err) {
      slot->outcome = permanent(msg->err) ? Outcome::Error : Outcome::Retry;
      slot->reason = std::string("kafka delivery failed: ") + rd_kafka_err2name(msg->err) + ": " +
                     rd_kafka_err2str(msg->err) + " (" + status_text(rd_kafka_message_status(msg)) + ")";
    }
    slot->state->finish_one();
  }

  static void error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<Producer*>(static_cast<ClientBase*>(opaque));
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char buf[512];
      const rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof buf);
      self->log.error("kafka producer fatal error: ", rd_kafka_err2name(orig), ": ", buf,
                      " — the producer will be recreated");
      self->fatal.store(true);
      return;
    }
    const auto code = static_cast<rd_kafka_resp_err_t>(err);
    const bool transient = code == RD_KAFKA_RESP_ERR__TRANSPORT ||
                           code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || code == RD_KAFKA_RESP_ERR__RESOLVE;
    self->log.log(transient ? LogLevel::Warn : LogLevel::Error, "kafka: ", rd_kafka_err2name(code), ": ",
                  reason);
  }

  HandlePtr rk;
  std::mutex topics_mu;
  std::map<std::string, TopicPtr, std::less<>> topics;
  std::thread poller;
  std::atomic<bool> stop{false};
  std::atomic<bool> fatal{false};
  std::atomic<std::size_t> writes{0};  ///< writes in flight: the producer is recreated only at 0
};

const Schema& KafkaSink::schema() {
  static const Schema s =
      add_brokers_option(SchemaBuilder())
          .option("topic", OptionType::Template)
          .required()
          .doc("Topic, a template (e.g. `events-{kind}`).")
          .option("key", OptionType::Template)
          .doc("Message key, a template (e.g. `{user_id}`); none when unset.")
          .option("headers", OptionType::StringMap)
          .doc("Record headers: name → template (e.g. `ua: \"{meta.header.User-Agent}\"`).")
          .option("payload", OptionType::Enum)
          .choices({"json", "raw", "template"})
          .def("json")
          .doc(
              "json: the event's JSON (its fields, re-serialised if changed); raw: the payload bytes as they "
              "are; "
              "template: `template` rendered.")
          .option("template", OptionType::Template)
          .doc("Payload template for `payload: template`.")
          .option("compression", OptionType::Enum)
          .choices({"none", "gzip", "snappy", "lz4", "zstd"})
          .def("none")
          .doc("compression.type.")
          .option("acks", OptionType::Enum)
          .choices({"0", "1", "all"})
          .def("all")
          .doc("Broker acknowledgements per message (acks); `all` is required with idempotence.")
          .option("idempotence", OptionType::Bool)
          .def("true")
          .doc("enable.idempotence: no duplicates from librdkafka's own retries, order kept.")
          .option("concurrency", OptionType::Int)
          .def("5")
          .range(1, 1024)
          .doc(
              "Writes in flight (the runtime key, with this sink's own default): each write's delivery "
              "reports take a round trip, so one at a time leaves the broker idle in between. Order per "
              "partition holds (one thread produces, and the idempotent producer keeps order across its own "
              "retries); only a write that librdkafka gave up on (`message_timeout`) and the core retries "
              "can land after later writes. 1: strict order across such failures too.")
          .option("message_timeout", OptionType::Duration)
          .def("30s")
          .range(1, 3600000)
          .doc(
              "message.timeout.ms: how long librdkafka tries before a message counts as failed (then Retry).")
          .passthrough("rdkafka.")
          .build();
  return s;
}

KafkaSink::KafkaSink(PluginContext& ctx, const Config& config)
    : ClientBase(ctx.log()),
      ctx_(ctx),
      config_(config),
      produced_(
          ctx.metrics().counter("sluice_kafka_produced_total", "Messages delivered (delivery report OK)")),
      bytes_(ctx.metrics().counter("sluice_kafka_produced_bytes_total", "Payload bytes delivered")),
      failed_(
          ctx.metrics().counter("sluice_kafka_delivery_failures_total", "Messages whose delivery failed")),
      queue_full_(
          ctx.metrics().counter("sluice_kafka_queue_full_total", "Times librdkafka's queue was full")),
      recreated_(ctx.metrics().counter("sluice_kafka_producer_recreated_total",
                                       "Producers recreated after a fatal error")) {
  brokers_ = resolve_brokers(config, ctx.log());
  std::string error;
  auto parse = [&](const std::string& key) {
    auto t = Template::parse(config.str(key), &error);
    if (!t) throw std::runtime_error(config.where(key) + ": " + key + ": " + error);
    return *t;
  };
  topic_ = parse("topic");
  if (config.has("key")) key_ = parse("key");
  if (config.has("headers"))
    for (const auto& [name, text] : config.string_map("headers")) {
      auto t = Template::parse(text, &error);
      if (!t) throw std::runtime_error(config.where("headers") + ": headers." + name + ": " + error);
      headers_.emplace_back(name, std::move(*t));
    }
  const std::string p = config.str("payload");
  payload_ = p == "raw" ? Payload::Raw : p == "template" ? Payload::Template : Payload::Json;
  if (payload_ == Payload::Template) {
    template_ = parse("template");
  }
  message_timeout_ = config.duration("message_timeout");
  if (brokers_.embedded && topic_.is_literal())
    brokers_.embedded->ensure_topic(ctx.log(), topic_.render(Event{}));
  producer_ = make_producer();
}

KafkaSink::~KafkaSink() {
  std::unique_lock lock(producer_mu_);
  producer_.reset();
}

std::unique_ptr<KafkaSink::Producer> KafkaSink::make_producer() {
  const std::string where = config_.where();
  auto p = std::make_unique<Producer>(ctx_.log());
  auto conf = new_conf();
  route_logs(conf.get(), p.get());
  rd_kafka_conf_set_error_cb(conf.get(), &Producer::error_cb);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &Producer::dr_cb);
  set_conf(conf.get(), "bootstrap.servers", brokers_.bootstrap, where);
  set_conf(conf.get(), "client.id", "sluice:" + ctx_.id(), where);
  set_conf(conf.get(), "acks", config_.str("acks"), where);
  set_conf(conf.get(), "enable.idempotence", config_.boolean("idempotence") ? "true" : "false", where);
  set_conf(conf.get(), "compression.type", config_.str("compression"), where);
  set_conf(conf.get(), "message.timeout.ms", std::to_string(message_timeout_.count()), where);
  // write() hands librdkafka a whole batch at once and then waits for its delivery reports, so
  // lingering (librdkafka's default 5 ms) only delays every batch: against a real broker, 1000-event
  // batches went from about 60k to 180k events/s (tests/bench, K2). rdkafka.linger.ms overrides.
  set_conf(conf.get(), "linger.ms", "0", where);
  apply_passthrough(conf.get(), config_);
  p->rk = new_client(RD_KAFKA_PRODUCER, std::move(conf), where);
  p->poller = std::thread([raw = p.get()] {
    // Delivery reports are served here; write() only waits for them.
    while (!raw->stop.load(std::memory_order_relaxed)) rd_kafka_poll(raw->rk.get(), 100);
  });
  return p;
}

void KafkaSink::recover_if_fatal() {
  // Writes still in flight on a fatal producer get their (failed) reports first: its poll
  // thread purges them. Until then new writes fail on it and are retried.
  {
    std::shared_lock lock(producer_mu_);
    if (!producer_->fatal.load() || producer_->writes.load() > 0) return;
  }
  std::unique_lock lock(producer_mu_);
  if (!producer_->fatal.load() || producer_->writes.load() > 0) return;
  producer_.reset();
  producer_ = make_producer();
  recreated_.inc();
  ctx_.log().warn("kafka producer recreated after a fatal error");
}

rd_kafka_topic_t* KafkaSink::topic_handle(Producer& p, const std::string& name) {
  std::lock_guard lock(p.topics_mu);
  auto it = p.topics.find(name);
  if (it != p.topics.end()) return it->second.get();
  if (brokers_.embedded) brokers_.embedded->ensure_topic(ctx_.log(), name);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(p.rk.get(), name.c_str(), nullptr);
  if (!rkt) return nullptr;
  return p.topics.emplace(name, TopicPtr(rkt)).first->second.get();
}

WriteResult KafkaSink::write(Batch& batch) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<WriteResult> result;
  write_async(batch, [&](WriteResult r) {
    std::lock_guard lock(mu);
    result = std::move(r);
    cv.notify_one();
  });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return result.has_value(); });
  return std::move(*result);
}

void KafkaSink::write_async(Batch& batch, WriteCompletion done) {
  if (batch.empty()) return done(WriteResult::ok());
  recover_if_fatal();
  std::shared_lock lock(producer_mu_);
  Producer& p = *producer_;
  rd_kafka_t* rk = p.rk.get();

  // Freed by complete(), after the last delivery report (the slots hold what librdkafka reads).
  auto* state = new WriteState;
  state->sink = this;
  state->producer_writes = &p.writes;
  p.writes.fetch_add(1);
  state->done = std::move(done);
  state->slots.resize(batch.size());
  // One extra count so that reports arriving while we still produce cannot finish the write early.
  state->remaining.store(batch.size() + 1, std::memory_order_relaxed);
  std::vector<Slot>& slots = state->slots;

  std::string topic_name;
  std::string last_topic;
  rd_kafka_topic_t* rkt = topic_.is_literal() ? topic_handle(p, topic_.render(Event{})) : nullptr;
  std::string header_value;
  std::size_t bytes = 0;

  for (std::size_t i = 0; i < batch.size(); ++i) {
    Slot& slot = slots[i];
    slot.state = state;
    const Event& ev = batch[i];
    auto fail_now = [&](Outcome o, std::string why) {
      slot.outcome = o;
      slot.reason = std::move(why);
      state->finish_one();
    };

    if (!topic_.is_literal()) {
      topic_name.clear();
      topic_.render_to(ev, topic_name);
      if (topic_name.empty()) {
        fail_now(Outcome::Error, "kafka: topic template " + topic_.text() + " rendered empty");
        continue;
      }
      if (topic_name != last_topic || !rkt) {
        rkt = topic_handle(p, topic_name);
        last_topic = topic_name;
      }
    }
    if (!rkt) {
      fail_now(Outcome::Error, "kafka: invalid topic");
      continue;
    }

    // Zero copy: the batch and the slots outlive every delivery report of this write.
    const std::string* value = &slot.value;
    if (payload_ == Payload::Template)
      template_.render_to(ev, slot.value);
    else
      value = &ev.payload();
    if (key_) key_->render_to(ev, slot.key);

    HeadersPtr hdrs;
    if (!headers_.empty()) {
      hdrs.reset(rd_kafka_headers_new(headers_.size()));
      for (const auto& [name, tmpl] : headers_) {
        header_value.clear();
        tmpl.render_to(ev, header_value);
        rd_kafka_header_add(hdrs.get(), name.data(), static_cast<ssize_t>(name.size()), header_value.data(),
                            static_cast<ssize_t>(header_value.size()));
      }
    }

    rd_kafka_vu_t vus[7];
    std::size_t n = 0;
    vus[n].vtype = RD_KAFKA_VTYPE_RKT;
    vus[n++].u.rkt = rkt;
    vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
    vus[n].u.mem.ptr = const_cast<char*>(value->data());
    vus[n++].u.mem.size = value->size();
    vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vus[n++].u.i = 0;  // neither copy nor free: the memory is ours until the report
    vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
    vus[n++].u.ptr = &slot;
    if (key_ && !slot.key.empty()) {
      vus[n].vtype = RD_KAFKA_VTYPE_KEY;
      vus[n].u.mem.ptr = slot.key.data();
      vus[n++].u.mem.size = slot.key.size();
    }
    if (ev.timestamp_ms > 0) {
      vus[n].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
      vus[n++].u.i64 = ev.timestamp_ms;
    }
    if (hdrs) {
      vus[n].vtype = RD_KAFKA_VTYPE_HEADERS;
      vus[n++].u.headers = hdrs.get();
    }

    for (;;) {
      ErrorPtr error(rd_kafka_produceva(rk, vus, n));
      if (!error) {
        (void)hdrs.release();  // librdkafka owns them now
        bytes += value->size();
        break;
      }
      const rd_kafka_resp_err_t err = rd_kafka_error_code(error.get());
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        // Bounded memory: wait for reports to free room (no busy loop: poll blocks up to 50 ms).
        queue_full_.inc();
        rd_kafka_poll(rk, 50);
        continue;
      }
      if (err == RD_KAFKA_RESP_ERR__FATAL) p.fatal.store(true);
      fail_now(permanent(err) ? Outcome::Error : Outcome::Retry,
               std::string("kafka produce failed: ") + rd_kafka_error_string(error.get()));
      break;
    }
  }
  state->bytes = bytes;
  lock.unlock();
  state->finish_one();  // the extra count: complete() may run now, here or on the poller
}

void KafkaSink::complete(WriteState* state) {
  std::vector<Slot> slots = std::move(state->slots);
  WriteCompletion done = std::move(state->done);
  const std::size_t bytes = state->bytes;
  state->producer_writes->fetch_sub(1);
  delete state;
  WriteResult result;
  std::size_t ok = 0;
  for (const auto& s : slots) ok += s.outcome == Outcome::Ok;
  produced_.inc(ok);
  if (ok == slots.size()) {
    bytes_.inc(bytes);
    return done(std::move(result));
  }
  failed_.inc(slots.size() - ok);
  result.per_event.reserve(slots.size());
  for (auto& s : slots) result.per_event.emplace_back(s.outcome, std::move(s.reason));
  ctx_.log().debug(slots.size() - ok, " of ", slots.size(),
                   " message(s) not delivered: ", result.per_event[0].second);
  done(std::move(result));
}

void KafkaSink::flush(std::chrono::milliseconds deadline) {
  std::shared_lock lock(producer_mu_);
  rd_kafka_t* rk = producer_->rk.get();
  // rd_kafka_flush returns OK even when messages timed out: only outq_len tells what is left.
  rd_kafka_flush(rk, static_cast<int>(deadline.count()));
  if (const int left = rd_kafka_outq_len(rk); left > 0)
    ctx_.log().warn("kafka flush: ", left, " message(s) or request(s) still queued after ", deadline.count(),
                    " ms");
}

}  // namespace sluice::kafka
