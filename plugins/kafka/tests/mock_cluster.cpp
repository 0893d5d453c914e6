#include "mock_cluster.hpp"

#include <atomic>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <unistd.h>

#include <gtest/gtest.h>

namespace sluice::kafka::test {

namespace {
using Clock = std::chrono::steady_clock;

struct HandleCloser {
  void operator()(rd_kafka_t* rk) const noexcept { rd_kafka_destroy(rk); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleCloser>;

rd_kafka_conf_t* base_conf(const std::string& bootstrap) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  auto set = [&](const char* k, const std::string& v) {
    if (rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
      throw std::runtime_error(std::string(k) + ": " + err);
  };
  if (!bootstrap.empty()) set("bootstrap.servers", bootstrap);
  set("log_level", "3");
  return conf;
}

Handle make(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(err);
  }
  return Handle(rk);
}

int partition_count(rd_kafka_t* rk, const std::string& topic) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  int count = 0;
  while (Clock::now() < deadline && count == 0) {
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (md->topic_cnt == 1 && !md->topics[0].err) count = md->topics[0].partition_cnt;
      rd_kafka_metadata_destroy(md);
    }
  }
  rd_kafka_topic_destroy(rkt);
  if (count == 0) throw std::runtime_error("no metadata for topic " + topic);
  return count;
}
}  // namespace

MockCluster::MockCluster(int brokers) {
  rk_ = make(RD_KAFKA_PRODUCER, base_conf("")).release();
  mock_ = rd_kafka_mock_cluster_new(rk_, brokers);
  if (!mock_) throw std::runtime_error("rd_kafka_mock_cluster_new failed");
  bootstrap_ = rd_kafka_mock_cluster_bootstraps(mock_);
}

MockCluster::~MockCluster() {
  rd_kafka_mock_cluster_destroy(mock_);
  rd_kafka_destroy(rk_);
}

void MockCluster::create_topic(const std::string& topic, int partitions, int replication) {
  ASSERT_EQ(rd_kafka_mock_topic_create(mock_, topic.c_str(), partitions, replication),
            RD_KAFKA_RESP_ERR_NO_ERROR);
}

void produce(const std::string& bootstrap, const std::string& topic, const std::vector<Record>& records) {
  rd_kafka_conf_t* conf = base_conf(bootstrap);
  static std::atomic<int> failures;
  failures = 0;
  rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void*) {
    if (m->err) failures++;
  });
  Handle rk = make(RD_KAFKA_PRODUCER, conf);
  for (const auto& r : records) {
    rd_kafka_headers_t* hdrs = rd_kafka_headers_new(r.headers.size());
    for (const auto& [k, v] : r.headers)
      rd_kafka_header_add(hdrs, k.data(), -1, v.data(), static_cast<ssize_t>(v.size()));
    const void* key = r.key ? r.key->data() : nullptr;
    const std::size_t key_len = r.key ? r.key->size() : 0;
    rd_kafka_resp_err_t err;
    do {
      err = rd_kafka_producev(rk.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_PARTITION(r.partition >= 0 ? r.partition : RD_KAFKA_PARTITION_UA),
                              RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
                              RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) rd_kafka_poll(rk.get(), 50);
    } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
    if (err) {
      rd_kafka_headers_destroy(hdrs);
      FAIL() << "produce: " << rd_kafka_err2str(err);
    }
  }
  rd_kafka_flush(rk.get(), 10000);
  ASSERT_EQ(rd_kafka_outq_len(rk.get()), 0);
  ASSERT_EQ(failures.load(), 0);
}

std::vector<Record> consume(const std::string& bootstrap, const std::string& topic, std::size_t expected,
                            std::chrono::milliseconds timeout) {
  rd_kafka_conf_t* conf = base_conf(bootstrap);
  char err[512];
  rd_kafka_conf_set(conf, "receive.message.max.bytes", "1000000000", err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", "plain-reader", err, sizeof err);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
  Handle rk = make(RD_KAFKA_CONSUMER, conf);
  const int n = partition_count(rk.get(), topic);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(n);
  for (int p = 0; p < n; ++p)
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk.get(), parts);
  rd_kafka_topic_partition_list_destroy(parts);

  std::vector<Record> out;
  const auto deadline = Clock::now() + timeout;
  while (out.size() < expected && Clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 100);
    if (!m) continue;
    if (!m->err) {
      Record r;
      r.topic = rd_kafka_topic_name(m->rkt);
      r.partition = m->partition;
      r.offset = m->offset;
      if (m->key) r.key.emplace(static_cast<const char*>(m->key), m->key_len);
      if (m->payload) r.value.assign(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* hdrs = nullptr;
      if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* val;
        size_t size;
        for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i)
          r.headers.emplace_back(name, std::string(static_cast<const char*>(val), size));
      }
      rd_kafka_timestamp_type_t tt;
      r.timestamp = rd_kafka_message_timestamp(m, &tt);
      out.push_back(std::move(r));
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk.get());
  return out;
}

std::map<std::int32_t, std::int64_t> committed(const std::string& bootstrap, const std::string& group,
                                               const std::string& topic) {
  rd_kafka_conf_t* conf = base_conf(bootstrap);
  char err[512];
  rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof err);
  Handle rk = make(RD_KAFKA_CONSUMER, conf);
  const int n = partition_count(rk.get(), topic);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(n);
  for (int p = 0; p < n; ++p) rd_kafka_topic_partition_list_add(parts, topic.c_str(), p);
  std::map<std::int32_t, std::int64_t> out;
  if (rd_kafka_committed(rk.get(), parts, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR)
    for (int i = 0; i < parts->cnt; ++i) out[parts->elems[i].partition] = parts->elems[i].offset;
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_consumer_close(rk.get());
  return out;
}

std::map<std::int32_t, std::int64_t> high_watermarks(const std::string& bootstrap, const std::string& topic) {
  Handle rk = make(RD_KAFKA_CONSUMER, base_conf(bootstrap));
  const int n = partition_count(rk.get(), topic);
  std::map<std::int32_t, std::int64_t> out;
  for (int p = 0; p < n; ++p) {
    std::int64_t lo = 0, hi = 0;
    if (rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p, &lo, &hi, 5000) ==
        RD_KAFKA_RESP_ERR_NO_ERROR)
      out[p] = hi;
  }
  return out;
}

std::int32_t leader_of(const std::string& bootstrap, const std::string& topic, std::int32_t partition) {
  Handle rk = make(RD_KAFKA_PRODUCER, base_conf(bootstrap));
  (void)partition_count(rk.get(), topic);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  std::int32_t leader = -1;
  if (rd_kafka_metadata(rk.get(), 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < md->topics[0].partition_cnt; ++i)
      if (md->topics[0].partitions[i].id == partition) leader = md->topics[0].partitions[i].leader;
    rd_kafka_metadata_destroy(md);
  }
  rd_kafka_topic_destroy(rkt);
  return leader;
}

std::string unique_name(const std::string& prefix) {
  static std::atomic<int> n{0};
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

double metric(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  double sum = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, name.size(), name) != 0) continue;
    if (line.size() > name.size() && line[name.size()] != '{' && line[name.size()] != ' ') continue;
    const auto sp = line.rfind(' ');
    if (sp == std::string::npos) continue;
    sum += std::stod(line.substr(sp + 1));
  }
  return sum;
}

}  // namespace sluice::kafka::test
