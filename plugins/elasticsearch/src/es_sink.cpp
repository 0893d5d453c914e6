// Sink `elasticsearch` (see es_sink.hpp and README.md).
#include "es_sink.hpp"

#include <algorithm>
#include <deque>
#include <random>
#include <unordered_map>

#include <Poco/URI.h>

#include "bulk_response.hpp"
#include "embedded_writer.hpp"

namespace sluice::elasticsearch {
namespace {

/** The encoded lines of a batch: event i is buf[span[i].first, span[i].second). */
struct Encoded {
  std::string buf;
  std::vector<std::pair<std::size_t, std::size_t>> span;
  std::size_t size(std::size_t i) const { return span[i].second - span[i].first; }
};

/** A whole-request error body (`{"error": {...}, "status": N}`) as text; its start when it is not JSON. */
std::string answer_text(const HttpResult& r) {
  Json j;
  if (parse_json(r.body, j) && j.is_object()) {
    if (auto e = j.find("error"); e != j.end()) return error_text(*e);
  }
  std::string text = r.body.substr(0, 300);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return safe_utf8(text);
}

bool power_of_two(std::size_t n) {
  return n && !(n & (n - 1));
}

std::string url_encoded(const std::string& text) {
  std::string out;
  Poco::URI::encode(text, "/?#%&+ ", out);
  return out;
}

}  // namespace

struct ElasticsearchSink::Round {
  std::vector<std::pair<Outcome, std::string>>& verdicts;  ///< per event of the batch
  const Encoded& encoded;
  std::vector<std::size_t> retry;  ///< items to send again
  std::string retry_reason;
  std::chrono::milliseconds retry_after{0};
  std::string problem;  ///< a whole request failed: why (for /health)
  bool any_answer = false;
};

ElasticsearchSink::ElasticsearchSink(PluginContext& ctx, const Config& config)
    : ctx_(ctx),
      settings_(load_settings(config)),
      client_(settings_.embedded ? nullptr : std::make_unique<Client>(settings_.client, ctx.log())),
      encoder_(settings_),
      docs_ok_(ctx.metrics().counter("sluice_elasticsearch_documents_total", "Bulk items by outcome",
                                     {{"outcome", "ok"}})),
      docs_retried_(ctx.metrics().counter("sluice_elasticsearch_documents_total", "Bulk items by outcome",
                                          {{"outcome", "retried"}})),
      docs_failed_(ctx.metrics().counter("sluice_elasticsearch_documents_total", "Bulk items by outcome",
                                         {{"outcome", "error"}})),
      requests_2xx_(ctx.metrics().counter("sluice_elasticsearch_requests_total", "Bulk requests by answer",
                                          {{"status", "2xx"}})),
      requests_4xx_(ctx.metrics().counter("sluice_elasticsearch_requests_total", "Bulk requests by answer",
                                          {{"status", "4xx"}})),
      requests_5xx_(ctx.metrics().counter("sluice_elasticsearch_requests_total", "Bulk requests by answer",
                                          {{"status", "5xx"}})),
      requests_failed_(ctx.metrics().counter("sluice_elasticsearch_requests_total", "Bulk requests by answer",
                                             {{"status", "no_answer"}})),
      bytes_(ctx.metrics().counter("sluice_elasticsearch_bytes_sent_total", "Request body bytes sent")),
      bulk_seconds_(ctx.metrics().histogram("sluice_elasticsearch_bulk_seconds", "Bulk request round trips",
                                            latency_buckets())) {
  bulk_target_ = std::string("/_bulk?filter_path=") + kBulkFilterPath;
  if (settings_.refresh != "false") bulk_target_ += "&refresh=" + settings_.refresh;
  if (!settings_.id)
    ctx.log().warn(
        "no `id`: the server picks document ids, so an event delivered again (a retry, a restart) ",
        "is indexed twice; set `id` (e.g. \"{id}\") for writes that can be repeated safely");
  if (settings_.embedded) {
    embedded_ = EmbeddedIndex::acquire(ctx.log(), ctx.data_dir(), settings_.index.text());
    if (settings_.create_index)
      ctx.log().info(
          "create_index: the embedded index keeps its own schema (title and description are text, "
          "visits a number); settings and mappings are for servers");
    std::lock_guard lock(mu_);
    ready_ = true;
    return;
  }
  handshake_thread_ = std::thread([this] { handshake(); });
}

ElasticsearchSink::~ElasticsearchSink() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  if (handshake_thread_.joinable()) handshake_thread_.join();
}

std::chrono::milliseconds ElasticsearchSink::backoff(std::size_t round) const {
  // Full jitter: uniform in [0, min(max, initial * 2^(round-1))].
  auto cap = settings_.retry_initial_backoff.count();
  for (std::size_t i = 1; i < round && cap < settings_.retry_max_backoff.count(); ++i) cap *= 2;
  cap = std::min<std::int64_t>(cap, settings_.retry_max_backoff.count());
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::chrono::milliseconds(
      std::uniform_int_distribution<std::int64_t>(0, std::max<std::int64_t>(cap, 1))(rng));
}

bool ElasticsearchSink::pause(std::chrono::milliseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  std::unique_lock lock(mu_);
  for (;;) {
    if (closing_ || ctx_.stopping()) return true;
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return false;
    // The stop signal is not ours to wait on here: look at it every 100 ms.
    cv_.wait_for(lock,
                 std::min<std::chrono::steady_clock::duration>(until - now, std::chrono::milliseconds(100)));
  }
}

bool ElasticsearchSink::wait_ready() {
  std::unique_lock lock(mu_);
  while (!ready_ && !closing_ && !ctx_.stopping()) cv_.wait_for(lock, std::chrono::milliseconds(100));
  return ready_;
}

void ElasticsearchSink::handshake() {
  for (std::size_t attempt = 1;; ++attempt) {
    std::string why;
    if (handshake_once(why)) {
      {
        std::lock_guard lock(mu_);
        ready_ = true;
      }
      cv_.notify_all();
      ctx_.set_problem("");
      return;
    }
    ctx_.set_problem("not connected to Elasticsearch: " + why);
    const auto wait = backoff(attempt);
    if (power_of_two(attempt))
      ctx_.log().warn("cannot start writing (attempt ", attempt, ", next in ", wait.count(), " ms): ", why);
    if (pause(wait)) return;
  }
}

bool ElasticsearchSink::handshake_once(std::string& why) {
  HttpResult r = client_->request("GET", "/");
  if (!r.answered) {
    why = r.error;
    return false;
  }
  if (r.status == 401 || r.status == 403) {
    why = r.host + " refuses the credentials (" + std::to_string(r.status) + " " + answer_text(r) + ")";
    return false;
  }
  if (r.status != 200) {
    why = r.host + ": GET / answered " + std::to_string(r.status) + ": " + answer_text(r);
    return false;
  }
  Json info;
  if (!parse_json(r.body, info) || !info.is_object() || !info.contains("version") ||
      !info["version"].is_object()) {
    why = r.host + " does not answer like Elasticsearch or OpenSearch (GET / has no version)";
    return false;
  }
  const Json& v = info["version"];
  const std::string number = v.value("number", std::string("?"));
  const std::string distribution = v.value("distribution", std::string("elasticsearch"));
  if (!connected_logged_)
    ctx_.log().info("connected to ", distribution, " ", number, " (node ",
                    info.value("name", std::string("?")), ", cluster ",
                    info.value("cluster_name", std::string("?")), ") at ", r.host);
  connected_logged_ = true;
  const int major = std::atoi(number.c_str());
  if (distribution == "elasticsearch" && major < 7 && !connected_logged_)
    ctx_.log().warn("Elasticsearch ", number,
                    " is older than 7.x: requests without mapping types may be refused");

  if (settings_.create_index) {
    const std::string index = settings_.index.render(Event{});
    const std::string path = "/" + url_encoded(index);
    HttpResult head = client_->request("HEAD", path);
    if (!head.answered) {
      why = head.error;
      return false;
    }
    if (head.status == 200) {
      ctx_.log().info("index ", index, " exists: left as it is");
      return true;
    }
    if (head.status != 404) {
      why = "HEAD " + path + " answered " + std::to_string(head.status);
      return false;
    }
    HttpResult put = client_->request("PUT", path, settings_.create_index->dump(), "application/json");
    if (!put.answered) {
      why = put.error;
      return false;
    }
    if (put.status == 200) {
      ctx_.log().info("created index ", index);
      return true;
    }
    const std::string text = answer_text(put);
    if (put.status == 400 && text.find("resource_already_exists_exception") != std::string::npos) return true;
    why = "creating index " + index + " failed: " + std::to_string(put.status) + " " + text;
    if (put.status == 400) {
      // A wrong mapping or setting will not mend by itself: say so loudly, keep trying (the config may be
      // fixed by a reload, the index created by hand).
      ctx_.log().error(why);
    }
    return false;
  }
  return true;
}

void ElasticsearchSink::send(const std::vector<std::size_t>& items, Round& round) {
  const Encoded& enc = round.encoded;
  std::deque<std::vector<std::size_t>> chunks;
  {
    std::vector<std::size_t> cur;
    std::size_t bytes = 0;
    for (std::size_t i : items) {
      if (!cur.empty() && bytes + enc.size(i) > settings_.max_bulk_bytes) {
        chunks.push_back(std::move(cur));
        cur.clear();
        bytes = 0;
      }
      cur.push_back(i);
      bytes += enc.size(i);
    }
    if (!cur.empty()) chunks.push_back(std::move(cur));
  }
  const bool external = settings_.version.has_value();
  std::string body;
  std::vector<ItemVerdict> verdicts;
  auto retry_all = [&](const std::vector<std::size_t>& chunk, const std::string& why) {
    round.retry.insert(round.retry.end(), chunk.begin(), chunk.end());
    if (round.retry_reason.empty()) round.retry_reason = why;
  };
  auto split = [&](std::vector<std::size_t>& chunk) {
    const std::size_t half = chunk.size() / 2;
    chunks.push_front(
        std::vector<std::size_t>(chunk.begin() + static_cast<std::ptrdiff_t>(half), chunk.end()));
    chunks.push_front(
        std::vector<std::size_t>(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(half)));
  };
  while (!chunks.empty()) {
    std::vector<std::size_t> chunk = std::move(chunks.front());
    chunks.pop_front();
    // Items encoded back to back (a first round, in order) are sent from the encoder's buffer.
    bool contiguous = true;
    for (std::size_t k = 1; k < chunk.size() && contiguous; ++k)
      contiguous = enc.span[chunk[k - 1]].second == enc.span[chunk[k]].first;
    std::string_view payload;
    if (contiguous) {
      const std::size_t from = enc.span[chunk.front()].first;
      payload = std::string_view(enc.buf).substr(from, enc.span[chunk.back()].second - from);
    } else {
      body.clear();
      for (std::size_t i : chunk) body.append(enc.buf, enc.span[i].first, enc.size(i));
      payload = body;
    }

    const auto t0 = std::chrono::steady_clock::now();
    const std::uint64_t sent_before = client_->bytes_sent();
    HttpResult r = client_->request("POST", bulk_target_, payload, "application/x-ndjson");
    bulk_seconds_.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    bytes_.inc(client_->bytes_sent() - sent_before);

    if (!r.answered) {
      requests_failed_.inc();
      retry_all(chunk, "elasticsearch: no answer: " + r.error);
      round.problem = "no Elasticsearch host answers: " + r.error;
      continue;
    }
    round.any_answer = true;
    (r.status < 300 ? requests_2xx_ : r.status < 500 ? requests_4xx_ : requests_5xx_).inc();
    const std::string what = std::to_string(r.status);
    if (r.status == 200) {
      std::string why;
      if (!parse_bulk_response(r.body, chunk.size(), settings_.action, external, verdicts, why)) {
        // Nothing tells which items were stored: send them all again (harmless with ids).
        retry_all(chunk, "elasticsearch: " + why);
        continue;
      }
      for (std::size_t k = 0; k < chunk.size(); ++k) {
        ItemVerdict& v = verdicts[k];
        const std::size_t i = chunk[k];
        if (v.outcome == Outcome::Ok) {
          docs_ok_.inc();
        } else if (v.outcome == Outcome::Retry) {
          round.retry.push_back(i);
          if (round.retry_reason.empty()) round.retry_reason = "elasticsearch: " + v.reason;
        } else {
          docs_failed_.inc();
          round.verdicts[i] = {Outcome::Error, "elasticsearch: " + v.reason};
        }
      }
      continue;
    }
    if (r.status == 413 || (r.status == 400 && chunk.size() > 1)) {
      // Too large, or one line the server cannot read: halve until it is one document.
      if (chunk.size() > 1) {
        split(chunk);
      } else {
        docs_failed_.inc();
        round.verdicts[chunk[0]] = {
            Outcome::Error, "elasticsearch: the server refuses the document as too large (" + what + " " +
                                answer_text(r) + ")"};
      }
      continue;
    }
    if (r.status == 400) {
      docs_failed_.inc();
      round.verdicts[chunk[0]] = {Outcome::Error, "elasticsearch: " + what + " " + answer_text(r)};
      continue;
    }
    // 429, 5xx, 408: the server cannot take it now; 401/403/404...: it will not until someone acts. Either
    // way the documents are fine: keep them, say why on /health.
    const std::string text = what + " " + answer_text(r);
    retry_all(chunk, "elasticsearch: " + text);
    if (r.retry_after) round.retry_after = std::max(round.retry_after, *r.retry_after);
    if (r.status == 401 || r.status == 403)
      round.problem = r.host + " refuses the credentials: " + text;
    else
      round.problem = r.host + " refuses bulk writes: " + text;
  }
}

WriteResult ElasticsearchSink::write(Batch& batch) {
  if (embedded_) {
    WriteResult r = write_embedded(*embedded_, settings_, encoder_, batch, ctx_.log());
    if (r.per_event.empty()) {
      (r.outcome == Outcome::Ok ? docs_ok_ : docs_retried_).inc(batch.size());
    } else {
      for (const auto& v : r.per_event) (v.first == Outcome::Ok ? docs_ok_ : docs_failed_).inc();
    }
    return r;
  }
  if (!wait_ready()) return WriteResult::unavailable("elasticsearch: not connected (stopping)");
  const std::size_t n = batch.size();
  std::vector<std::pair<Outcome, std::string>> verdicts(n, {Outcome::Ok, std::string()});
  Encoded enc;
  enc.span.resize(n);
  std::vector<std::size_t> pending;
  pending.reserve(n);
  bool all_ok = true;
  std::string why;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t mark = enc.buf.size();
    if (encoder_.encode(batch[i], enc.buf, why)) {
      enc.span[i] = {mark, enc.buf.size()};
      pending.push_back(i);
    } else {
      docs_failed_.inc();
      verdicts[i] = {Outcome::Error, "elasticsearch: " + why};
      all_ok = false;
    }
  }
  // Sends @p items, round after round, until each has its verdict (or is given back to the core).
  auto deliver = [&](std::vector<std::size_t> items) {
    for (std::size_t round_no = 1; !items.empty(); ++round_no) {
      Round round{verdicts, enc, {}, {}, std::chrono::milliseconds(0), {}, false};
      send(items, round);
      if (round.problem.empty() && round.any_answer) ctx_.set_problem("");
      if (!round.problem.empty()) ctx_.set_problem(round.problem);
      for (std::size_t i = 0; i < n; ++i)
        if (verdicts[i].first != Outcome::Ok) all_ok = false;
      if (round.retry.empty()) break;
      all_ok = false;
      std::sort(round.retry.begin(), round.retry.end());
      docs_retried_.inc(round.retry.size());
      const bool give_up = settings_.retry_limit != 0 && round_no > settings_.retry_limit;
      const auto wait = std::max(backoff(round_no), round.retry_after);
      if (power_of_two(round_no) || give_up)
        ctx_.log().warn(round.retry.size(), " of ", n, " document(s) not taken (round ", round_no, "), ",
                        give_up ? std::string("giving them back to the core's retry policy")
                                : "again in " + std::to_string(wait.count()) + " ms",
                        ": ", round.retry_reason);
      if (give_up || ctx_.stopping() || pause(wait)) {
        const Outcome o = give_up ? Outcome::Retry : Outcome::Unavailable;
        for (std::size_t i : round.retry) verdicts[i] = {o, round.retry_reason};
        break;
      }
      items = std::move(round.retry);
    }
  };
  if (!settings_.increment.guard_key || settings_.action != Action::Increment) {
    deliver(std::move(pending));
  } else {
    // Guarded increments of one document are applied in batch order, one at a time: a later window's
    // count stored before an earlier one's retry would move the guard's mark past the earlier, which
    // would then be skipped as a replay. Wave k holds each document's k-th increment.
    std::vector<std::string> ids(n);
    std::vector<std::vector<std::size_t>> waves;
    std::unordered_map<std::string_view, std::size_t> seen;
    for (std::size_t i : pending) {
      ids[i] = settings_.id ? settings_.id->render(batch[i]) : std::string();
      const std::size_t k = settings_.id ? seen[ids[i]]++ : 0;
      if (waves.size() <= k) waves.resize(k + 1);
      waves[k].push_back(i);
    }
    std::unordered_map<std::string_view, std::size_t> waiting;  // document -> its unfinished item
    for (std::size_t k = 0; k < waves.size(); ++k) {
      std::vector<std::size_t> go;
      for (std::size_t i : waves[k]) {
        auto w = waiting.find(ids[i]);
        if (w == waiting.end()) {
          go.push_back(i);
          continue;
        }
        verdicts[i] = {verdicts[w->second].first,
                       "elasticsearch: waits for an earlier increment of the same document: " +
                           verdicts[w->second].second};
        all_ok = false;
      }
      deliver(std::move(go));
      for (std::size_t i : waves[k]) {
        const Outcome o = verdicts[i].first;
        if (o == Outcome::Retry || o == Outcome::Unavailable) waiting.emplace(ids[i], i);
      }
    }
  }
  if (all_ok) return WriteResult::ok();
  WriteResult r;
  r.per_event = std::move(verdicts);
  return r;
}

}  // namespace sluice::elasticsearch
