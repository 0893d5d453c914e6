// The http_client source (see http_client_source.hpp): the stream and poll loops,
// records into events, and what a failure leads to.
#include "http_client_source.hpp"

#include <ctime>

#include <Poco/URI.h>

namespace sluice::http_client {
namespace {

using Clock = std::chrono::steady_clock;
using Extra = std::vector<std::pair<std::string, std::string>>;

constexpr std::size_t kReadPiece = 64 * 1024;
constexpr std::size_t kLoggedBody = 512;
/** An emit that waited this long for room means the pipeline was full (a slow reader). */
constexpr milliseconds kFullWait{1000};
/**
 * A stream that ends within this long of the pipeline being full was probably dropped for
 * reading slowly: after the drop the source still reads, quickly, what the kernel held.
 */
constexpr milliseconds kFullRecently{10000};

std::string utc_time(std::int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/** A JSON object that is an in-band error report: `errors` and no `data` (X's stream shape). */
bool in_band_error(const Json& f) {
  return f.is_object() && f.contains("errors") && !f.contains("data");
}

}  // namespace

HttpClientSource::HttpClientSource(PluginContext& ctx, const Config& config)
    : ctx_(ctx),
      settings_(load_settings(config)),
      backoff_(settings_.backoff),
      connections_(ctx.metrics().counter("sluice_http_client_connections_total",
                                         "Requests answered with 2xx or 304 (a stream or a poll begins)")),
      bytes_(ctx.metrics().counter("sluice_http_client_bytes_total", "Body bytes received")),
      records_(ctx.metrics().counter("sluice_http_client_records_total",
                                     "Records cut from bodies (lines, SSE events, array elements)")),
      keepalives_(ctx.metrics().counter("sluice_http_client_keepalives_total",
                                        "Keep-alive blank lines (ndjson) or comments (sse) received")),
      not_modified_(ctx.metrics().counter("sluice_http_client_not_modified_total",
                                          "Polls answered 304 Not Modified (ETag unchanged)")),
      in_band_errors_(ctx.metrics().counter("sluice_http_client_in_band_errors_total",
                                            "In-band {\"errors\": [...]} objects received")),
      oversize_(ctx.metrics().counter("sluice_http_client_oversize_records_total",
                                      "Records skipped for passing max_record")),
      invalid_(ctx.metrics().counter("sluice_http_client_invalid_records_total",
                                     "Records that were not JSON (dead-lettered)")),
      dropped_partial_(ctx.metrics().counter("sluice_http_client_partial_records_dropped_total",
                                             "Records cut by a disconnect, dropped (never emitted)")),
      connected_(ctx.metrics().gauge("sluice_http_client_connected", "1 while a stream is open")),
      last_byte_(ctx.metrics().gauge("sluice_http_client_last_byte_timestamp_seconds",
                                     "When the last body byte arrived (seconds since the epoch)")),
      metrics_(ctx.metrics()) {
  const Poco::URI uri(settings_.request.url);
  topic_ = uri.getPath().empty() ? "/" : uri.getPath();
  url_for_log_ = uri.getScheme() + "://" + uri.getAuthority() + topic_;
  if (uri.getScheme() == "https") tls_ = std::make_unique<Tls>(settings_.request);
}

HttpClientSource::~HttpClientSource() = default;

void HttpClientSource::stop() {
  stopping_.store(true);
  std::lock_guard lock(mu_);
  if (current_ != nullptr) current_->abort();
}

void HttpClientSource::set_connection(Connection* c) {
  std::lock_guard lock(mu_);
  current_ = c;
  if (c != nullptr && stopping_.load()) c->abort();
}

void HttpClientSource::count_reconnect(const std::string& reason) {
  metrics_
      .counter("sluice_http_client_reconnects_total", "Reconnects (stream) or retries (poll) by reason",
               {{"reason", reason}})
      .inc();
}

void HttpClientSource::run(SourceContext& ctx) {
  if (settings_.mode == Mode::Stream)
    run_stream(ctx);
  else
    run_poll(ctx);
  connected_.set(0);
}

bool HttpClientSource::start(Connection& c, const Extra& extra, ResponseHead& head, Attempt& a) {
  std::string error;
  if (!c.open(extra, head, error)) {
    a.failure = ErrorClass::Network;
    a.reason = "connect";
    a.why = "no answer from " + url_for_log_ + ": " + error;
    return false;
  }
  if (head.status / 100 == 2 || head.status == 304) {
    a.answered = true;
    connections_.inc();
    return true;
  }
  // The body says why (X answers problem details in JSON): a bounded part of it for the log.
  std::string body;
  while (body.size() < kLoggedBody) {
    std::string ignored;
    if (c.read(body, kLoggedBody - body.size(), settings_.request.response_timeout, ignored) != ReadEnd::Data)
      break;
  }
  const ErrorClass cls = classify_status(head.status);
  a.failure = cls;
  a.reason = to_string(cls);
  a.why = url_for_log_ + " answered " + std::to_string(head.status) + " " + head.reason;
  if (!body.empty()) a.why += ": " + safe_utf8(body.substr(0, kLoggedBody));
  if (cls == ErrorClass::RateLimited || head.status == 503)
    a.server_wait = server_wait(head.retry_after, head.rate_limit_reset, now_ms());
  return false;
}

bool HttpClientSource::emit(SourceContext& ctx, std::vector<Record>& records) {
  Batch batch;
  batch.reserve(std::min(records.size(), settings_.batch_size));
  const std::int64_t now = now_ms();
  for (Record& rec : records) {
    records_.inc();
    Event ev;
    if (settings_.payload == PayloadKind::Json) {
      ev = Event(std::move(rec.data));
      std::string error;
      if (!ev.validate(&error)) {
        invalid_.inc();
        ctx.dead_letter(std::move(ev), "not JSON: " + error);
        continue;
      }
      // Only a record that names `errors` is parsed here; the others travel unparsed.
      if (ev.payload().find("\"errors\"") != std::string::npos && ev.parse() && in_band_error(ev.fields())) {
        in_band_errors_.inc();
        if (settings_.errors == InBandErrors::Log) {
          ctx.log().warn("in-band error from ", url_for_log_, ": ",
                         safe_utf8(std::string_view(ev.payload()).substr(0, 1024)));
          continue;
        }
        if (settings_.errors == InBandErrors::DeadLetter) {
          ctx.dead_letter(std::move(ev), "in-band error object from " + url_for_log_);
          continue;
        }
      }
    } else {
      ev = Event::from_json(Json{{"message", safe_utf8(rec.data)}});
    }
    ev.meta.source = ctx.id();
    ev.meta.topic = topic_;
    ev.timestamp_ms = now;
    if (!rec.event.empty()) ev.meta.set_attribute("sse_event", safe_utf8(rec.event));
    if (!rec.id.empty()) ev.meta.set_attribute("sse_id", safe_utf8(rec.id));
    batch.push_back(std::move(ev));
    if (batch.size() >= settings_.batch_size) {
      if (!ctx.emit(batch)) return false;
      batch.clear();
    }
  }
  records.clear();
  return batch.empty() || ctx.emit(batch);
}

bool HttpClientSource::after_failure(SourceContext& ctx, const Attempt& a) {
  const ErrorClass cls = *a.failure;
  metrics_
      .counter("sluice_http_client_errors_total", "Failed connections, requests and streams by class",
               {{"class", to_string(cls)}})
      .inc();
  if (cls == ErrorClass::Auth) {
    // Retrying refused credentials only hammers the server (X may lock the app out): the source stops
    // here and says why on /health until the pipeline is stopped or reloaded with other credentials.
    const std::string why = "stopped: the credentials were refused (" + a.why +
                            "); fix them and reload or restart; no further request is made";
    ctx.log().error(why);
    ctx.set_problem(why);
    while (!ctx.wait_stop(milliseconds{3600 * 1000})) {
    }
    return false;
  }
  const milliseconds wait = backoff_.failure(cls, a.server_wait);
  count_reconnect(a.reason);
  const std::string until = utc_time(now_ms() + wait.count());
  ctx.log().warn(a.why, "; next attempt in ", wait.count(), " ms (", to_string(cls), " backoff, until ",
                 until, ")");
  // A stream that was answered and then ended is reconnected quietly; no answer, or an error status,
  // means the source cannot do its job for now.
  if (!a.answered) ctx.set_problem(a.why + "; backing off until " + until);
  return !ctx.wait_stop(wait);
}

bool HttpClientSource::stream(SourceContext& ctx, Connection& c, Splitter& splitter, Attempt& a) {
  std::string buf;
  std::vector<Record> records;
  std::optional<Clock::time_point> last_full;  // when an emit last waited kFullWait or more
  milliseconds full_wait{0};                   // ... and how long it waited
  while (true) {
    buf.clear();
    std::string error;
    const ReadEnd end = c.read(buf, kReadPiece, settings_.stall_timeout, error);
    if (ctx.stopping()) return false;
    if (end == ReadEnd::Data) {
      bytes_.inc(buf.size());
      last_byte_.set(now_ms() / 1000);
      const FeedResult r = splitter.feed(buf, records);
      if (r.keepalives > 0) keepalives_.inc(r.keepalives);
      if (r.oversize > 0) {
        oversize_.inc(r.oversize);
        ctx.log().warn(r.oversize, " record(s) longer than max_record (", settings_.max_record,
                       " bytes) skipped from ", url_for_log_);
      }
      if (!records.empty()) {
        const auto t0 = Clock::now();
        if (!emit(ctx, records)) return false;
        const auto waited = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
        if (waited >= kFullWait) {
          last_full = Clock::now();
          full_wait = waited;
        }
      }
      continue;
    }
    a.failure = ErrorClass::Network;
    const auto since_full =
        last_full ? std::chrono::duration_cast<milliseconds>(Clock::now() - *last_full) : kFullRecently;
    if (end == ReadEnd::Eof && since_full < kFullRecently) {
      a.reason = "closed_while_full";
      a.why = url_for_log_ + " closed the stream " + std::to_string(since_full.count()) +
              " ms after the pipeline was full (an emit waited " + std::to_string(full_wait.count()) +
              " ms for room): the server may drop slow readers";
    } else if (end == ReadEnd::Eof) {
      a.reason = "closed";
      a.why = url_for_log_ + " closed the stream";
    } else if (end == ReadEnd::Stall) {
      a.reason = "stall";
      a.why = "no byte from " + url_for_log_ + " for " + std::to_string(settings_.stall_timeout.count()) +
              " ms (stall_timeout, keep-alives included): closing it";
    } else {
      a.reason = "read_error";
      a.why = "reading " + url_for_log_ + " failed: " + error;
    }
    return true;
  }
}

void HttpClientSource::run_stream(SourceContext& ctx) {
  std::unique_ptr<Splitter> splitter;
  SseSplitter* sse = nullptr;
  if (settings_.framing == Framing::Sse) {
    auto s = std::make_unique<SseSplitter>(settings_.max_record);
    sse = s.get();
    splitter = std::move(s);
  } else {
    splitter = std::make_unique<LineSplitter>(settings_.max_record);
  }
  while (!ctx.stopping()) {
    Extra extra;
    if (sse != nullptr && !sse->last_event_id().empty())
      extra.emplace_back("Last-Event-ID", sse->last_event_id());
    if (sse != nullptr) extra.emplace_back("Accept", "text/event-stream");
    Connection c(settings_.request, tls_.get());
    set_connection(&c);
    Attempt a;
    ResponseHead head;
    if (start(c, extra, head, a)) {
      backoff_.success();
      ctx.set_problem("");
      ctx.log().info("connected to ", url_for_log_, " (", head.status, ")");
      connected_.set(1);
      const bool go_on = stream(ctx, c, *splitter, a);
      connected_.set(0);
      if (const std::size_t cut = splitter->reset(); cut > 0) {
        dropped_partial_.inc();
        ctx.log().warn("dropped a record cut by the end of the stream (", cut, " bytes)");
      }
      if (!go_on) break;
    }
    set_connection(nullptr);
    if (ctx.stopping() || !after_failure(ctx, a)) break;
  }
  set_connection(nullptr);
}

void HttpClientSource::run_poll(SourceContext& ctx) {
  while (!ctx.stopping()) {
    const auto started = Clock::now();
    Extra extra;
    if (!etag_.empty()) extra.emplace_back("If-None-Match", etag_);
    Connection c(settings_.request, tls_.get());
    set_connection(&c);
    Attempt a;
    ResponseHead head;
    std::string body;
    bool complete = false;
    if (start(c, extra, head, a)) {
      backoff_.success();
      ctx.set_problem("");
      if (head.status == 304) {
        not_modified_.inc();
      } else {
        while (true) {
          std::string error;
          const ReadEnd end = c.read(body, kReadPiece, settings_.request.response_timeout, error);
          if (end == ReadEnd::Data && body.size() <= settings_.max_body) continue;
          if (end == ReadEnd::Eof) {
            complete = true;
          } else {
            a.failure = end == ReadEnd::Data ? ErrorClass::Http : ErrorClass::Network;
            a.reason = end == ReadEnd::Data ? "oversize_body" : "read_error";
            a.why = end == ReadEnd::Data
                        ? url_for_log_ + " answered a body over max_body (" +
                              std::to_string(settings_.max_body) + " bytes): nothing of it emitted"
                    : end == ReadEnd::Stall ? "the body from " + url_for_log_ + " stalled"
                                            : "reading " + url_for_log_ + " failed: " + error;
          }
          break;
        }
      }
    }
    set_connection(nullptr);
    if (ctx.stopping()) break;
    if (complete) {
      bytes_.inc(body.size());
      if (!body.empty()) last_byte_.set(now_ms() / 1000);
      std::vector<Record> records;
      if (settings_.framing == Framing::Whole) {
        if (!body.empty()) records.push_back(Record{std::move(body), {}, {}});
      } else if (settings_.framing == Framing::JsonArray) {
        Json doc;
        std::string error;
        if (!parse_json(body, doc, &error) || !doc.is_array()) {
          invalid_.inc();
          ctx.dead_letter(Event(safe_utf8(body)),
                          "the answer is not a JSON array" + (error.empty() ? "" : ": " + error));
        } else {
          for (const Json& element : doc) records.push_back(Record{element.dump(), {}, {}});
        }
      } else {
        std::unique_ptr<Splitter> splitter;
        if (settings_.framing == Framing::Sse)
          splitter = std::make_unique<SseSplitter>(settings_.max_record);
        else
          splitter = std::make_unique<LineSplitter>(settings_.max_record);
        FeedResult r = splitter->feed(body, records);
        // The body is whole: its last line (or event) needs no terminator.
        const FeedResult end = splitter->feed(settings_.framing == Framing::Sse ? "\n\n" : "\n", records);
        if (r.oversize + end.oversize > 0) oversize_.inc(r.oversize + end.oversize);
      }
      if (!emit(ctx, records)) break;
      // Only once its events are in the pipeline: the next 304 must not hide an answer never emitted.
      if (!head.etag.empty()) etag_ = head.etag;
    }
    if (a.failure) {
      if (!after_failure(ctx, a)) break;
      continue;
    }
    const auto elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
    if (elapsed < settings_.interval && ctx.wait_stop(settings_.interval - elapsed)) break;
  }
}

}  // namespace sluice::http_client
