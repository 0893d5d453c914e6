#include "kafka_source.hpp"

#include <algorithm>
#include <cstring>
#include <thread>

#include "embedded_cluster.hpp"

namespace sluice::kafka {

namespace {
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

bool contains(const std::vector<std::pair<std::string, std::int32_t>>* only, const std::string& topic,
              std::int32_t partition) {
  if (!only) return true;
  for (const auto& [t, p] : *only)
    if (p == partition && t == topic) return true;
  return false;
}

std::vector<std::pair<std::string, std::int32_t>> keys_of(const rd_kafka_topic_partition_list_t* parts) {
  std::vector<std::pair<std::string, std::int32_t>> keys;
  keys.reserve(static_cast<std::size_t>(parts->cnt));
  for (int i = 0; i < parts->cnt; ++i) keys.emplace_back(parts->elems[i].topic, parts->elems[i].partition);
  return keys;
}
}  // namespace

const Schema& KafkaSource::schema() {
  static const Schema s =
      add_brokers_option(SchemaBuilder())
          .option("topics", OptionType::StringList)
          .required()
          .doc("Topics to subscribe to; an entry starting with `^` is a regular expression.")
          .option("group", OptionType::String)
          .required()
          .doc("Consumer group id (group.id).")
          .option("start", OptionType::Enum)
          .choices({"earliest", "latest"})
          .def("earliest")
          .doc("Where a group without committed offsets starts (auto.offset.reset).")
          .option("payload", OptionType::Enum)
          .choices({"json", "text", "raw"})
          .def("json")
          .doc(
              "json: parse each message (invalid JSON goes to the dead-letter sink); text: the message "
              "becomes "
              "field `message`; raw: bytes as they are, parsed only if a later stage reads fields.")
          .option("batch_size", OptionType::Int)
          .def("1000")
          .range(1, 1000000)
          .doc("Most messages emitted into the pipeline at once.")
          .option("commit_interval", OptionType::Duration)
          .def("1s")
          .range(10, 3600000)
          .doc(
              "How often the offsets of acknowledged events are committed (synchronously, with the "
              "marks transforms recorded in the commit metadata).")
          .option("assignor", OptionType::Enum)
          .choices({"range", "roundrobin", "cooperative-sticky"})
          .def("range")
          .doc("Partition assignment strategy (partition.assignment.strategy).")
          .option("drain_timeout", OptionType::Duration)
          .def("10s")
          .range(0, 600000)
          .doc(
              "On revocation and shutdown: how long to wait for in-flight events before committing what is "
              "done (the rest is consumed again later).")
          .option("pause_after", OptionType::Duration)
          .def("1s")
          .range(0, 60000)
          .doc(
              "Backpressure: how long a batch the pipeline cannot take is held, fetching nothing new, "
              "before the partitions are paused. Pausing drops what librdkafka prefetched (fetched again "
              "after the resume); holding keeps it, but delays rebalance callbacks by as much.")
          .passthrough("rdkafka.")
          .build();
  return s;
}

KafkaSource::KafkaSource(PluginContext& ctx, const Config& config)
    : ClientBase(ctx.log()),
      ctx_(ctx),
      messages_(ctx.metrics().counter("sluice_kafka_messages_total", "Messages consumed")),
      bytes_(ctx.metrics().counter("sluice_kafka_bytes_total", "Payload bytes consumed")),
      commits_(ctx.metrics().counter("sluice_kafka_commits_total",
                                     "Successful offset commits (periodic, on revoke, at shutdown, and those "
                                     "recording a transform's marks)")),
      dead_lettered_(
          ctx.metrics().counter("sluice_kafka_dead_lettered_total", "Messages sent to the dead-letter sink")),
      pauses_(ctx.metrics().counter("sluice_kafka_pauses_total",
                                    "Times the consumer paused its partitions (backpressure)")),
      errors_(ctx.metrics().counter("sluice_kafka_consumer_errors_total",
                                    "Consumer errors reported by librdkafka")),
      paused_gauge_(
          ctx.metrics().gauge("sluice_kafka_paused", "1 while partitions are paused for backpressure")),
      lag_(ctx.metrics().gauge("sluice_kafka_consumer_lag",
                               "Messages behind the high watermark, summed over partitions")),
      commit_lag_(ctx.metrics().gauge("sluice_kafka_commit_lag",
                                      "Messages between the committable position and the high watermark, "
                                      "summed over partitions (what a restart would consume again)")),
      // The core's gauge for /health (same name: the same object).
      stuck_(
          ctx.metrics().gauge("sluice_source_stuck",
                              "Positions (e.g. Kafka partitions) the source cannot commit past: an event "
                              "there was neither delivered nor dead-lettered. It is consumed again after a "
                              "restart.")),
      assigned_(
          ctx.metrics().gauge("sluice_kafka_assigned_partitions", "Partitions assigned to this consumer")) {
  const std::string where = config.where();
  brokers_ = resolve_brokers(config, ctx.log());
  topics_ = config.strings("topics");
  const std::string p = config.str("payload");
  payload_ = p == "text" ? Payload::Text : p == "raw" ? Payload::Raw : Payload::Json;
  batch_size_ = static_cast<std::size_t>(config.integer("batch_size"));
  drain_timeout_ = config.duration("drain_timeout");
  pause_after_ = config.duration("pause_after");
  commit_interval_ = config.duration("commit_interval");
  const std::string group = config.str("group");

  auto conf = new_conf();
  route_logs(conf.get(), this);
  set_conf(conf.get(), "bootstrap.servers", brokers_.bootstrap, where);
  set_conf(conf.get(), "group.id", group, where);
  set_conf(conf.get(), "client.id", "sluice:" + ctx.id(), where);
  set_conf(conf.get(), "enable.auto.offset.store", "false", where);
  // Commits are the source's own (partition_checkpoint.hpp): auto-commit would write empty metadata.
  set_conf(conf.get(), "enable.auto.commit", "false", where);
  set_conf(conf.get(), "auto.offset.reset", config.str("start"), where);
  set_conf(conf.get(), "partition.assignment.strategy", config.str("assignor"), where);
  // Prefetch more. With librdkafka's queued.min.messages (100000) and fetch.wait.max.ms (500),
  // draining a backlog of 1M small messages from the mock cluster (what `embedded` is) ran at
  // about 150k messages/s, idle between fetch rounds; with these, above 1M/s (tests/bench, K1).
  // Prefetched payload is bounded by queued.max.messages.kbytes: 16 MB (librdkafka's 64 MB is
  // more than a quarter second of a fast drain needs); rdkafka.* overrides all three.
  set_conf(conf.get(), "queued.min.messages", "1000000", where);
  set_conf(conf.get(), "fetch.wait.max.ms", "100", where);
  set_conf(conf.get(), "queued.max.messages.kbytes", "16384", where);
  if (brokers_.embedded) {
    // The mock cluster ignores fetch size limits and answers with everything it has.
    set_conf(conf.get(), "receive.message.max.bytes", "1000000000", where);
    for (const auto& t : topics_)
      if (!t.empty() && t[0] != '^') brokers_.embedded->ensure_topic(ctx.log(), t);
  }
  apply_passthrough(conf.get(), config);
  {
    // The group protocol follows from the assignors (librdkafka refuses a mix of eager and cooperative).
    char strategy[512];
    std::size_t size = sizeof strategy;
    if (rd_kafka_conf_get(conf.get(), "partition.assignment.strategy", strategy, &size) == RD_KAFKA_CONF_OK)
      cooperative_ = std::string_view(strategy).find("cooperative") != std::string_view::npos;
  }
  rd_kafka_conf_set_rebalance_cb(conf.get(), &KafkaSource::rebalance_cb);
  rd_kafka_conf_set_offset_commit_cb(conf.get(), &KafkaSource::commit_cb);
  rk_ = new_client(RD_KAFKA_CONSUMER, std::move(conf), where);
  rd_kafka_poll_set_consumer(rk_.get());
  committer_ = std::make_shared<Committer>(rk_.get());
  pending_.reserve(batch_size_);
}

KafkaSource::~KafkaSource() {
  close();
  rk_.reset();
}

void KafkaSource::stop() {
  stop_.store(true, std::memory_order_release);
}

bool KafkaSource::should_stop() const noexcept {
  return stop_.load(std::memory_order_acquire) || ctx_.stopping();
}

void KafkaSource::run(SourceContext& ctx) {
  run_ctx_ = &ctx;
  {
    PartitionListPtr subs(rd_kafka_topic_partition_list_new(static_cast<int>(topics_.size())));
    for (const auto& t : topics_)
      rd_kafka_topic_partition_list_add(subs.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
    if (auto err = rd_kafka_subscribe(rk_.get(), subs.get()))
      throw std::runtime_error(ctx.id() + ": cannot subscribe: " + rd_kafka_err2str(err));
  }
  ctx.log().info("consuming ", topics_.size(), " topic pattern(s) from ", brokers_.bootstrap);

  auto next_lag = Clock::now();
  while (!should_stop()) {
    if (!pending_.empty()) {
      switch (ctx.try_emit(pending_, milliseconds{20})) {
        case EmitResult::Accepted:
          pending_.clear();
          full_since_.reset();
          if (paused_) set_paused(false);
          break;
        case EmitResult::Full:
          // A short stall (a bulk request in flight) only holds the batch, and librdkafka's prefetch
          // waits with it; a longer one pauses the partitions, so that polling (max.poll.interval.ms,
          // rebalances) can go on without fetching anything new.
          if (!full_since_) full_since_ = Clock::now();
          if (!paused_ && Clock::now() - *full_since_ >= pause_after_) set_paused(true);
          break;
        case EmitResult::Stopping:
          break;
      }
    }
    if (should_stop()) break;
    // An empty batch waits for the first message; a held one polls nothing until the partitions are
    // paused, then only serves callbacks.
    if (pending_.empty() || paused_) poll_batch(pending_.empty() ? 100 : 0);
    update_positions();
    if (const auto now = Clock::now(); now >= next_commit_) {
      // After failures (the coordinator is away), wait longer: each attempt blocks up to its timeout.
      const bool ok = commit_positions(nullptr, "");
      commit_failures_ = ok ? 0 : commit_failures_ + 1;
      next_commit_ = Clock::now() + commit_interval_ * (1 << std::min<std::size_t>(commit_failures_, 5));
    }
    if (const auto now = Clock::now(); now >= next_lag) {
      update_lag();
      next_lag = now + std::chrono::seconds(1);
    }
  }

  // Fetch nothing more; what is in flight is still draining through the pipeline. The consumer
  // is closed in the destructor, after the runtime drained the pipeline, so that the final
  // commit covers everything written.
  set_paused(true);
  drop_pending(nullptr);
  update_positions(nullptr, true);
  run_ctx_ = nullptr;
}

void KafkaSource::close() {
  if (!rk_ || closing_) return;
  close_run();
  drop_pending(nullptr);
  const auto deadline = Clock::now() + drain_timeout_;
  while (!wait_in_flight(nullptr, std::min(deadline, Clock::now() + milliseconds{20})) &&
         Clock::now() < deadline) {
    // Keep serving callbacks while waiting; partitions are paused, anything that still arrives is not stored.
    MessagePtr msg(rd_kafka_consumer_poll(rk_.get(), 30));
  }
  update_positions(nullptr, true);
  std::size_t left = 0;
  for (const auto& [key, st] : partitions_) left += st.tracker->in_flight();
  if (left)
    ctx_.log().warn(left, " run(s) of events still in flight at shutdown: they will be consumed again");
  const bool committed = commit_positions(nullptr, " at shutdown");
  committer_->retire(checkpoints(nullptr));
  committer_->close();
  closing_ = true;
  if (auto err = rd_kafka_consumer_close(rk_.get()))
    ctx_.log().warn("consumer close: ", rd_kafka_err2str(err));
  else if (committed)
    ctx_.log().info("consumer closed, offsets committed");
  else
    ctx_.log().warn("consumer closed; the last offsets were not committed (they are consumed again)");
}

void KafkaSource::poll_batch(int timeout_ms) {
  // Runs never outlive one poll: the batch may be emitted next.
  struct CloseRun {
    KafkaSource* self;
    ~CloseRun() { self->close_run(); }
  } close_at_end{this};
  for (std::size_t n = 0; pending_.size() < batch_size_ || n == 0; ++n) {
    MessagePtr msg(rd_kafka_consumer_poll(rk_.get(), n == 0 ? timeout_ms : 0));
    if (!msg) return;
    if (msg->err) {
      if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
      errors_.inc();
      ctx_.log().warn("consumer error: ", rd_kafka_message_errstr(msg.get()));
      continue;
    }
    handle_message(msg.get());
  }
}

KafkaSource::PartitionState& KafkaSource::partition(const char* topic, std::int32_t partition) {
  PartitionState& st = partitions_[PartitionKey(topic, partition)];
  if (!st.checkpoint)  // a message before its assignment was seen: no committed position known
    st.checkpoint = std::make_shared<PartitionCheckpoint>(committer_, topic, partition, -1,
                                                          std::vector<std::int64_t>{}, cluster_origin());
  return st;
}

const std::string& KafkaSource::cluster_origin() {
  if (origin_.empty()) {
    if (brokers_.embedded) {
      origin_ = brokers_.embedded->id();
    } else if (char* id = rd_kafka_clusterid(rk_.get(), 0)) {
      // From librdkafka's metadata cache (a timeout of 0 never waits): known once the consumer has
      // talked to the cluster, which it has by the time partitions are assigned.
      origin_ = id;
      rd_kafka_mem_free(rk_.get(), id);
    }
  }
  return origin_;
}

void KafkaSource::close_run() {
  if (!run_) return;
  run_->tracker->add(run_->last);
  run_.reset();
  run_ack_.reset();  // the run completes once its events are done with it
}

void KafkaSource::handle_message(const rd_kafka_message_t* msg) {
  if (!(msg->rkt == last_rkt_ && msg->partition == last_partition_ && last_state_)) {
    close_run();
    last_state_ = &partition(rd_kafka_topic_name(msg->rkt), msg->partition);
    last_rkt_ = msg->rkt;
    last_partition_ = msg->partition;
  }
  PartitionState& st = *last_state_;
  if (!run_) {
    // One acknowledgement and one tracker entry per run of messages instead of
    // per message: its offset is stored once every event of the run is done,
    // with the worst status any of them had (a Failed one holds the whole run
    // back, so the run is consumed again: at-least-once either way).
    run_ = std::make_shared<Run>(Run{st.tracker, -1});
    run_ack_ = Ack::create([run = run_](AckStatus s) { run->tracker->complete(run->last, s); });
  }
  const char* data = static_cast<const char*>(msg->payload);
  const std::size_t len = msg->payload ? msg->len : 0;
  messages_.inc();
  bytes_.inc(len);

  Event ev = payload_ == Payload::Text ? Event::from_json(Json{{"message", std::string(data, len)}})
                                       : Event(std::string(data, len));
  ev.meta.source = ctx_.id();
  ev.meta.topic = rd_kafka_topic_name(msg->rkt);
  ev.meta.partition = msg->partition;
  ev.meta.offset = msg->offset;
  if (msg->key) ev.meta.key.emplace(static_cast<const char*>(msg->key), msg->key_len);
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(msg, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs) {
    const char* name;
    const void* value;
    std::size_t size;
    for (std::size_t i = 0;
         rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
      ev.meta.headers.push_back(
          {name, value ? std::string(static_cast<const char*>(value), size) : std::string()});
  }
  rd_kafka_timestamp_type_t ts_type;
  const std::int64_t ts = rd_kafka_message_timestamp(msg, &ts_type);
  ev.timestamp_ms = ts >= 0 ? ts : now_ms();

  run_->last = msg->offset;
  if (st.first_offset < 0) {
    st.first_offset = msg->offset;
    st.checkpoint->set_start(msg->offset);
  }
  ev.meta.checkpoint = st.checkpoint;
  st.last_offset = msg->offset;
  ev.ack = run_ack_;

  if (payload_ == Payload::Json) {
    std::string error;
    // Checked here so invalid JSON is dead-lettered with its coordinates; small payloads stay
    // unparsed and later stages read their fields from the text.
    if (!ev.validate(&error)) {
      dead_lettered_.inc();
      std::string reason = "invalid JSON in " + coordinates(ev.meta.topic, ev.meta.partition) +
                           " at offset " + std::to_string(ev.meta.offset) + ": " +
                           (len == 0 ? "empty message" : error);
      ctx_.dead_letter(std::move(ev), std::move(reason));
      return;
    }
  }
  pending_.push_back(std::move(ev));
}

void KafkaSource::drop_pending(const std::vector<PartitionKey>* only) {
  if (pending_.empty()) return;
  // Never emitted: their offsets must not be stored (a destroyed handle would count as Delivered).
  std::erase_if(pending_, [&](Event& e) {
    if (!contains(only, e.meta.topic, e.meta.partition)) return false;
    e.ack.release(AckStatus::Failed);
    return true;
  });
}

void KafkaSource::update_positions(const std::vector<PartitionKey>* only, bool all) {
  for (auto& [key, st] : partitions_) {
    if (!contains(only, key.first, key.second)) continue;
    if (!all && !st.tracker->dirty()) continue;
    const auto offset = all ? st.tracker->committable() : st.tracker->take_store();
    if (offset && st.checkpoint) st.checkpoint->set_position(*offset);
  }
}

std::vector<std::shared_ptr<PartitionCheckpoint>> KafkaSource::checkpoints(
    const std::vector<PartitionKey>* only) const {
  std::vector<std::shared_ptr<PartitionCheckpoint>> out;
  for (const auto& [key, st] : partitions_)
    if (contains(only, key.first, key.second) && st.checkpoint) out.push_back(st.checkpoint);
  return out;
}

bool KafkaSource::commit_positions(const std::vector<PartitionKey>* only, const char* when) {
  std::string why;
  if (committer_->commit(checkpoints(only), why)) return true;
  ctx_.log().warn(why, when);
  return false;
}

bool KafkaSource::wait_in_flight(const std::vector<PartitionKey>* only, Clock::time_point deadline) {
  for (;;) {
    bool busy = false;
    for (const auto& [key, st] : partitions_)
      if (contains(only, key.first, key.second) && st.tracker->in_flight() > 0) {
        busy = true;
        break;
      }
    if (!busy) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds{5});
  }
}

void KafkaSource::set_paused(bool paused) {
  PartitionListPtr assignment;
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(rk_.get(), &raw) == RD_KAFKA_RESP_ERR_NO_ERROR) assignment.reset(raw);
  if (assignment && assignment->cnt > 0) {
    const auto err = paused ? rd_kafka_pause_partitions(rk_.get(), assignment.get())
                            : rd_kafka_resume_partitions(rk_.get(), assignment.get());
    if (err) ctx_.log().warn(paused ? "pause: " : "resume: ", rd_kafka_err2str(err));
  }
  if (paused && !paused_) {
    pauses_.inc();
    ctx_.log().debug("pipeline full: partitions paused");
  } else if (!paused && paused_) {
    ctx_.log().debug("partitions resumed");
  }
  paused_ = paused;
  paused_gauge_.set(paused ? 1 : 0);
}

void KafkaSource::update_lag() {
  std::int64_t lag = 0;
  std::int64_t commit_lag = 0;
  std::int64_t stuck = 0;
  for (auto& [key, st] : partitions_) {
    // A Failed acknowledgement holds the partition's position for good (at-least-once): nothing
    // after it is committed, and a restart consumes it all again.
    if (st.tracker->blocked()) {
      ++stuck;
      if (!st.stuck) {
        const auto at = st.tracker->committable();
        ctx_.log().error("partition ", coordinates(key.first, key.second),
                         " is stuck: an event was neither delivered nor dead-lettered, so its committed "
                         "position stays at ",
                         at ? "offset " + std::to_string(*at) : std::string("its start"),
                         " while messages are consumed (a restart consumes them again)");
        st.stuck = true;
      }
    }
    std::int64_t low = 0, high = 0;
    if (rd_kafka_get_watermark_offsets(rk_.get(), key.first.c_str(), key.second, &low, &high) || high < 0)
      continue;
    const std::int64_t position = st.last_offset >= 0 ? st.last_offset + 1 : low;
    if (high > position) lag += high - position;
    if (st.first_offset < 0) continue;  // nothing consumed yet: the group's position is not known here
    const auto committable = st.tracker->committable();
    const std::int64_t committed = committable ? *committable : st.first_offset;
    if (high > committed) commit_lag += high - committed;
  }
  lag_.set(lag);
  commit_lag_.set(commit_lag);
  stuck_.set(stuck);
}

void KafkaSource::rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                               rd_kafka_topic_partition_list_t* parts, void* opaque) {
  (void)rk;
  static_cast<KafkaSource*>(static_cast<ClientBase*>(opaque))->on_rebalance(err, parts);
}

void KafkaSource::commit_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                            void* opaque) {
  (void)rk;
  (void)offsets;
  auto* self = static_cast<KafkaSource*>(static_cast<ClientBase*>(opaque));
  if (!err)
    self->commits_.inc();
  else if (err != RD_KAFKA_RESP_ERR__NO_OFFSET)  // nothing new to commit
    self->ctx_.log().warn("offset commit failed: ", rd_kafka_err2str(err));
}

void KafkaSource::on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
  // Not rd_kafka_rebalance_protocol(), nor rd_kafka_assignment() below: in librdkafka 2.0.2 both wait
  // for an answer from the group thread, which can hang when the callback comes from consumer_close()
  // (librdkafka issue #4041; seen here once under TSan).
  const bool cooperative = cooperative_;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    on_assign(parts, cooperative);
    return;
  }
  const bool lost = rd_kafka_assignment_lost(rk_.get());
  if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    on_revoke(parts, lost);
  } else {
    ctx_.log().error("rebalance error: ", rd_kafka_err2str(err));
    on_revoke(parts, true);
  }
  if (cooperative) {
    if (ErrorPtr e{rd_kafka_incremental_unassign(rk_.get(), parts)})
      ctx_.log().error("incremental unassign: ", rd_kafka_error_string(e.get()));
  } else {
    rd_kafka_assign(rk_.get(), nullptr);
  }
  assigned_.set(static_cast<std::int64_t>(partitions_.size()));
}

void KafkaSource::on_assign(rd_kafka_topic_partition_list_t* parts, bool cooperative) {
  close_run();  // its PartitionState may be replaced below
  // Where each partition resumes, and the marks recorded with it (window boundaries to close again).
  PartitionListPtr committed(rd_kafka_topic_partition_list_copy(parts));
  if (auto err = rd_kafka_committed(rk_.get(), committed.get(), 30000)) {
    ctx_.log().error("cannot read the committed offsets of the assigned partitions (", rd_kafka_err2str(err),
                     "): transforms that recorded marks there (aggregate windows) cannot replay them");
    committed.reset();
  }
  for (int i = 0; i < parts->cnt; ++i) {
    const PartitionKey key(parts->elems[i].topic, parts->elems[i].partition);
    std::int64_t at = -1;
    std::vector<std::int64_t> marks;
    if (const auto* e =
            committed ? rd_kafka_topic_partition_list_find(committed.get(), key.first.c_str(), key.second)
                      : nullptr;
        e && !e->err && e->offset >= 0) {
      at = e->offset;
      marks = decode_marks(
          std::string_view(static_cast<const char*>(e->metadata), e->metadata ? e->metadata_size : 0));
      std::erase_if(marks, [&](std::int64_t m) { return m < at; });
      if (!marks.empty())
        ctx_.log().info(coordinates(key.first, key.second), " resumes at offset ", at, " with ", marks.size(),
                        " recorded mark(s), the last at ", marks.back());
    }
    // A fresh tracker and checkpoint per assignment: acks and records of an earlier one go to the old.
    if (auto old = partitions_.find(key); old != partitions_.end())
      committer_->retire({old->second.checkpoint});
    PartitionState st;
    st.checkpoint = std::make_shared<PartitionCheckpoint>(committer_, key.first, key.second, at,
                                                          std::move(marks), cluster_origin());
    partitions_[key] = std::move(st);
  }
  last_state_ = nullptr;
  if (cooperative) {
    if (ErrorPtr e{rd_kafka_incremental_assign(rk_.get(), parts)})
      ctx_.log().error("incremental assign: ", rd_kafka_error_string(e.get()));
  } else {
    if (auto err = rd_kafka_assign(rk_.get(), parts)) ctx_.log().error("assign: ", rd_kafka_err2str(err));
  }
  if (paused_ && parts->cnt > 0) rd_kafka_pause_partitions(rk_.get(), parts);
  assigned_.set(static_cast<std::int64_t>(partitions_.size()));
  ctx_.log().info("assigned ", parts->cnt, " partition(s)", cooperative ? " (incremental)" : "");
}

void KafkaSource::on_revoke(rd_kafka_topic_partition_list_t* parts, bool lost) {
  const auto keys = keys_of(parts);
  close_run();  // its PartitionState may be erased below
  drop_pending(&keys);
  if (lost) {
    // Another member may own them already: committing now could move its offsets backwards.
    ctx_.log().warn("assignment lost: ", parts->cnt, " partition(s) dropped without commit");
  } else {
    const auto deadline = Clock::now() + (closing_ ? milliseconds{0} : drain_timeout_);
    if (!wait_in_flight(&keys, deadline))
      ctx_.log().warn("revoke: in-flight events did not complete within ", drain_timeout_.count(),
                      " ms; they will be consumed again by the next owner");
    update_positions(&keys, true);
    commit_positions(&keys, " (on revoke)");
  }
  committer_->retire(checkpoints(&keys));
  for (const auto& key : keys) partitions_.erase(key);
  last_state_ = nullptr;
  ctx_.log().info("revoked ", parts->cnt, " partition(s)");
}

}  // namespace sluice::kafka
