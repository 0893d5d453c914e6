#include "http_source.hpp"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>

#include <Poco/Base64Decoder.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/URI.h>

#include "request_body.hpp"

namespace sluice::http_source {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using Status = Poco::Net::HTTPResponse::HTTPStatus;

struct Auth {
  enum class Kind { None, Bearer, Basic } kind = Kind::None;
  std::string username;
  std::string secret;  ///< never logged
  std::string challenge;
};

struct Route {
  std::string method;
  std::string path;
  BodyMode body = BodyMode::Json;
  std::vector<std::pair<std::string, std::string>> fields;
  bool all_query = false;
  std::vector<std::string> query;
  bool all_headers = false;
  std::vector<std::string> headers;
  int status = 200;
  std::string response;
  std::string content_type;
  bool answer_on_ack = true;
  Auth auth;
  /** Nothing is added to the body: the client's JSON object goes through byte for byte. */
  bool pass_through = false;
  std::vector<FieldPath> required;
};

struct Cors {
  bool enabled = false;
  bool any = false;
  std::vector<std::string> origins;
  std::string max_age;
};

const Schema& auth_schema() {
  static const Schema s = [] {
    SchemaBuilder b;
    b.option("type", OptionType::Enum)
        .choices({"bearer", "basic"})
        .required()
        .doc("`bearer`: `Authorization: Bearer <token>`; `basic`: `Authorization: Basic` with `username`.");
    secret_options(b, "token", "The bearer token, or the basic-auth password")
        .option("username", OptionType::String)
        .doc("User name for `basic`.")
        .option("realm", OptionType::String)
        .def("sluice")
        .doc("Realm named in `WWW-Authenticate`.");
    return b.build();
  }();
  return s;
}

const Schema& route_schema() {
  static const Schema s =
      SchemaBuilder()
          .option("path", OptionType::String)
          .required()
          .doc(
              "Path; `{name}` segments are path parameters and land in the event as fields "
              "(`/purchase/{item}`).")
          .option("method", OptionType::Enum)
          .choices({"GET", "POST", "PUT", "PATCH", "DELETE"})
          .def("POST")
          .doc("HTTP method.")
          .option("body", OptionType::Enum)
          .choices({"json", "json_array", "ndjson", "none"})
          .doc(
              "json: one JSON object, one event; json_array: an array of objects (or one object), one "
              "event each; ndjson: one object per line; none: the body is not read, one event per request. "
              "Default: `none` for GET and DELETE, `json` otherwise.")
          .option("fields", OptionType::StringMap)
          .doc(
              "Fields set on every event of this route (e.g. `{event_type: purchase_sword}`); they win over "
              "body, query, path and header values of the same name.")
          .option("query", OptionType::StringList)
          .doc("Query parameters copied into the event as fields: a list of names, or `[\"*\"]` for all.")
          .option("headers", OptionType::StringList)
          .doc(
              "Request headers copied into the event as fields, named as listed (e.g. `[Host, User-Agent, "
              "Accept]`), or `[\"*\"]` for all, named as the client sent them. Every request header is also "
              "in "
              "`meta.header.<name>` for templates.")
          .option("required", OptionType::StringList)
          .doc(
              "Fields every event of this route must carry (field paths, e.g. `[id]`): a request with an "
              "event where one is absent, null or an empty string is answered 400 naming it, and none of "
              "its events enters the pipeline (rather than failing later in a sink, after a 200).")
          .option("status", OptionType::Int)
          .def("200")
          .range(200, 299)
          .doc("Status of the success answer.")
          .option("response", OptionType::String)
          .def("'{\"success\": true}'")
          .doc("Body of the success answer (text or JSON).")
          .option("content_type", OptionType::String)
          .doc(
              "Content-Type of the success answer. Default: `application/json` when `response` starts with "
              "`{` or `[`, otherwise `text/plain; charset=utf-8`.")
          .option("answer", OptionType::Enum)
          .choices({"ack", "accept"})
          .def("ack")
          .doc(
              "ack: answer once every sink has durably accepted the events (or dead-lettered them); accept: "
              "answer once the pipeline has taken them (faster, but a crash can lose answered events).")
          .option("auth", OptionType::Object)
          .nested(auth_schema())
          .doc("Authentication for this route (overrides the source's `auth`).")
          .build();
  return s;
}

const Schema& cors_schema() {
  static const Schema s = SchemaBuilder()
                              .option("origins", OptionType::StringList)
                              .required()
                              .doc("Allowed origins (`https://shop.example`), or `[\"*\"]`.")
                              .option("max_age", OptionType::Duration)
                              .def("10m")
                              .doc("How long browsers may cache a preflight answer.")
                              .build();
  return s;
}

std::string trim_copy(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

Auth load_auth(const Config& c) {
  Auth a;
  const std::string type = c.str("type");
  a.kind = type == "basic" ? Auth::Kind::Basic : Auth::Kind::Bearer;
  a.secret = read_secret(c, "token");
  const std::string realm = c.str("realm");
  if (a.kind == Auth::Kind::Basic) {
    a.username = c.str("username");
    a.challenge = "Basic realm=\"" + realm + "\", charset=\"UTF-8\"";
  } else {
    a.challenge = "Bearer realm=\"" + realm + "\"";
  }
  return a;
}

bool authorised(const Auth& auth, const Poco::Net::HTTPServerRequest& req) {
  if (auth.kind == Auth::Kind::None) return true;
  const std::string& h = req.get("Authorization", Poco::Net::HTTPMessage::EMPTY);
  const std::string_view scheme = auth.kind == Auth::Kind::Bearer ? "Bearer " : "Basic ";
  if (h.size() <= scheme.size() || !iequals(std::string_view(h).substr(0, scheme.size()), scheme))
    return false;
  const std::string given = trim_copy(h.substr(scheme.size()));
  if (auth.kind == Auth::Kind::Bearer) return constant_time_equal(given, auth.secret);
  std::string decoded;
  try {
    std::istringstream in(given);
    Poco::Base64Decoder dec(in);
    std::ostringstream out;
    out << dec.rdbuf();
    decoded = out.str();
  } catch (const Poco::Exception&) {
    return false;
  }
  const std::size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  // Both compared, always: the answer's timing tells nothing about which one was wrong.
  const bool user_ok = constant_time_equal(std::string_view(decoded).substr(0, colon), auth.username);
  const bool pass_ok = constant_time_equal(std::string_view(decoded).substr(colon + 1), auth.secret);
  return user_ok & pass_ok;
}

bool request_has_body(const Poco::Net::HTTPServerRequest& req) {
  return req.getChunkedTransferEncoding() || (req.hasContentLength() && req.getContentLength64() > 0);
}

enum class ReadResult { Ok, TooLarge, Timeout, Incomplete };

/**
 * Reads the body, never more than @p max bytes: a Content-Length can lie and a
 * chunked body has none. Each wait for bytes is bounded by the server's read
 * timeout; @p timeout bounds the whole body (a client trickling bytes).
 */
ReadResult read_body(Poco::Net::HTTPServerRequest& req, std::size_t max, milliseconds timeout,
                     std::string& body) {
  const auto deadline = Clock::now() + timeout;
  const bool has_len = req.hasContentLength();
  const std::int64_t len = has_len ? req.getContentLength64() : -1;
  if (has_len && len > static_cast<std::int64_t>(max)) return ReadResult::TooLarge;
  if (has_len) body.reserve(static_cast<std::size_t>(len));
  std::istream& in = req.stream();
  char buf[16384];
  for (;;) {
    // One byte blocks until data comes; readsome then takes what that read brought.
    in.read(buf, 1);
    if (in.gcount() == 0) break;
    body.push_back(buf[0]);
    for (;;) {
      const std::streamsize n = in.readsome(buf, sizeof buf);
      if (n <= 0) break;
      body.append(buf, static_cast<std::size_t>(n));
      if (body.size() > max) return ReadResult::TooLarge;
    }
    if (body.size() > max) return ReadResult::TooLarge;
    if (has_len && static_cast<std::int64_t>(body.size()) >= len) break;
    if (Clock::now() > deadline) return ReadResult::Timeout;
  }
  if (in.bad()) return ReadResult::Timeout;
  if (has_len && static_cast<std::int64_t>(body.size()) < len) return ReadResult::Incomplete;
  return ReadResult::Ok;
}

/**
 * A request waiting for its acknowledgement. Where the server can defer the answer, the
 * thread completing the acknowledgement sends it (`reply`); otherwise the request's own
 * thread waits for `done`.
 */
struct Pending {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  AckStatus status = AckStatus::Delivered;
  std::function<void(AckStatus)> reply;  ///< set once the answer is deferred
};

}  // namespace

/** State the route handlers share with the source; outlives it while a handler runs. */
struct Shared : std::enable_shared_from_this<Shared> {
  PluginContext& pctx;
  std::string id;
  HttpServerOptions server;
  std::size_t max_body = 0;
  milliseconds body_timeout{0}, emit_timeout{0}, ack_timeout{0};
  std::string retry_after;
  std::vector<std::shared_ptr<const Route>> routes;
  Cors cors;

  std::mutex mu;
  std::condition_variable cv;
  SourceContext* sctx = nullptr;  ///< set while run() accepts requests
  bool open = false;
  bool gone = false;  ///< the source is destroyed: answer 503, touch nothing of it
  int emitting = 0;
  int in_flight = 0;

  static constexpr std::array<int, 9> codes{200, 400, 401, 408, 413, 415, 500, 503, 0};
  std::array<Counter*, codes.size()> responses{};
  Counter* events = nullptr;

  explicit Shared(PluginContext& c) : pctx(c), id(c.id()) {}

  void count(int code) {
    for (std::size_t i = 0; i + 1 < codes.size(); ++i)
      if (codes[i] == code) return responses[i]->inc();
    if (code >= 200 && code < 300) responses[0]->inc();  // other success statuses count as 2xx
  }

  void set_cors(const Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res) const {
    if (!cors.enabled) return;
    const std::string& origin = req.get("Origin", Poco::Net::HTTPMessage::EMPTY);
    if (origin.empty()) return;
    if (cors.any) {
      res.set("Access-Control-Allow-Origin", "*");
      return;
    }
    for (const auto& o : cors.origins)
      if (o == origin) {
        res.set("Access-Control-Allow-Origin", origin);
        res.set("Vary", "Origin");
        return;
      }
  }

  void answer(Poco::Net::HTTPServerResponse& res, int status, const std::string& content_type,
              const std::string& body) {
    res.setStatusAndReason(static_cast<Status>(status));
    res.setContentType(content_type);
    res.setContentLength(static_cast<std::streamsize>(body.size()));
    res.sendBuffer(body.data(), body.size());
  }

  void fail(Poco::Net::HTTPServerResponse& res, int status, const std::string& message) {
    if (status == 503) res.set("Retry-After", retry_after);
    answer(res, status, "application/json", error_body(message));
    count(status);
  }

  /** The same answers, sent later (from the thread that completed the acknowledgement). */
  void fail(HttpLaterAnswer& later, int status, const std::string& message) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (status == 503) headers.emplace_back("Retry-After", retry_after);
    if (later.send(status, "application/json", error_body(message), headers)) count(status);
  }

  static std::string error_body(const std::string& message) {
    return Json{{"success", false}, {"message", safe_utf8(message)}}.dump();
  }

  /** Answers a request whose events were acknowledged with @p status. */
  void acked(const Route& route, HttpLaterAnswer& later, AckStatus status) {
    if (status == AckStatus::Failed)
      return fail(later, 503, "the sinks could not store the event; retry later");
    if (later.send(route.status, route.content_type, route.response)) count(route.status);
  }

  std::string ack_timeout_message() const {
    return "not acknowledged by the sinks within " + std::to_string(ack_timeout.count()) +
           " ms; it may still be delivered, retry later";
  }

  void handle(const Route& route, Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res,
              const PathParams& params);
  /** The events are in the pipeline: answer through @p later now (accept) or once acknowledged. */
  void answer_when_acked(const Route& route, const std::shared_ptr<Pending>& pending,
                         const std::shared_ptr<HttpLaterAnswer>& later, std::shared_ptr<void> flight);
  /** The waiting room's thread: emits waiting requests in arrival order until their deadline. */
  void serve_room();

  /** A request that found the pipeline full, waiting for room (its answer is deferred). */
  struct Waiting {
    Batch batch;
    Clock::time_point until;
    std::function<void(EmitResult)> done;
  };
  std::deque<Waiting> room;  ///< guarded by mu; at most one per open connection
  std::condition_variable room_cv;
  bool room_stop = false;
  void preflight(const std::string& methods, Poco::Net::HTTPServerRequest& req,
                 Poco::Net::HTTPServerResponse& res);
};

void Shared::preflight(const std::string& methods, Poco::Net::HTTPServerRequest& req,
                       Poco::Net::HTTPServerResponse& res) {
  set_cors(req, res);
  res.set("Access-Control-Allow-Methods", methods);
  res.set("Access-Control-Allow-Headers", "Content-Type, Authorization");
  res.set("Access-Control-Max-Age", cors.max_age);
  res.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_NO_CONTENT);
  res.setContentLength(0);
  res.send();
}

void Shared::handle(const Route& route, Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res,
                    const PathParams& params) {
  {
    std::lock_guard lock(mu);
    if (gone || !open) {
      if (request_has_body(req)) res.setKeepAlive(false);
      res.set("Retry-After", "1");
      const std::string body =
          R"json({"success": false, "message": "not accepting requests (starting or stopping)"})json";
      res.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE);
      res.setContentType("application/json");
      res.setContentLength(static_cast<std::streamsize>(body.size()));
      res.sendBuffer(body.data(), body.size());
      return;
    }
    ++in_flight;
  }
  // Held until the request is answered, which a deferred answer does after this returns.
  std::shared_ptr<void> flight(nullptr, [self = shared_from_this()](void*) {
    std::lock_guard lock(self->mu);
    --self->in_flight;
    self->cv.notify_all();
  });

  set_cors(req, res);
  if (!authorised(route.auth, req)) {
    if (request_has_body(req)) res.setKeepAlive(false);  // the unread body must not be taken for a request
    res.set("WWW-Authenticate", route.auth.challenge);
    return fail(res, 401, "authentication required");
  }
  const bool head = req.getMethod() == "HEAD";

  std::string body;
  if (route.body != BodyMode::None && !head) {
    if (!content_type_allowed(route.body, req.getContentType())) {
      if (request_has_body(req)) res.setKeepAlive(false);
      return fail(res, 415,
                  "unsupported Content-Type '" + req.getContentType() + "'; send application/json" +
                      (route.body == BodyMode::Json ? "" : " or application/x-ndjson"));
    }
    switch (read_body(req, max_body, body_timeout, body)) {
      case ReadResult::Ok:
        break;
      case ReadResult::TooLarge:
        res.setKeepAlive(false);
        return fail(res, 413, "request body over the limit of " + std::to_string(max_body) + " bytes");
      case ReadResult::Timeout:
        res.setKeepAlive(false);
        return fail(res, 408, "request body not received in time");
      case ReadResult::Incomplete:
        res.setKeepAlive(false);
        return fail(res, 400, "request body shorter than its Content-Length");
    }
  } else if (request_has_body(req)) {
    res.setKeepAlive(false);  // a body this route ignores is not read
  }
  if (head) {  // HEAD has no side effects: the answer's headers only
    res.setStatusAndReason(static_cast<Status>(route.status));
    res.setContentType(route.content_type);
    res.setContentLength(static_cast<std::streamsize>(route.response.size()));
    res.send();
    count(route.status);
    return;
  }

  // Build every event first: a request with one bad part emits nothing.
  Batch batch;
  std::string error;
  const std::int64_t now = now_ms();
  auto decorate = [&](Event& ev) {
    ev.timestamp_ms = now;
    ev.meta.source = id;
    ev.meta.topic = route.path;
    ev.meta.headers.reserve(req.size());
    for (const auto& [name, value] : req) ev.meta.headers.push_back(Header{name, value});
    for (const auto& [name, value] : params) ev.meta.attributes.push_back(Header{name, value});
    ev.meta.attributes.push_back(Header{"method", req.getMethod()});
    ev.meta.attributes.push_back(Header{"remote_addr", req.clientAddress().toString()});
  };
  if (route.pass_through && route.body == BodyMode::Json) {
    // Event::validate() checks small objects with a scanner, without building them.
    const auto first = body.find_first_not_of(" \t\r\n");
    batch.emplace_back(std::move(body));
    if (first == std::string::npos || batch.back().payload()[first] != '{' || !batch.back().validate()) {
      if (!is_single_object(batch.back().payload(), error)) return fail(res, 400, error);  // says why
    }
    decorate(batch.back());
  } else {
    std::vector<Json> objects;
    if (route.body == BodyMode::Json && body.empty())
      return fail(res, 400, "could not decode json: the body is empty");
    if (!parse_objects(route.body, body, objects, error)) return fail(res, 400, error);
    Poco::URI::QueryParameters query;
    if (route.all_query || !route.query.empty()) query = Poco::URI(req.getURI()).getQueryParameters();
    batch.reserve(objects.size());
    for (auto& obj : objects) {
      for (const auto& [name, value] : query)
        if (route.all_query || std::find(route.query.begin(), route.query.end(), name) != route.query.end())
          obj[name] = value;
      for (const auto& [name, value] : params) obj[name] = value;
      if (route.all_headers) {
        for (const auto& [name, value] : req) obj[name] = value;
      } else {
        for (const auto& name : route.headers)
          if (req.has(name)) obj[name] = req.get(name);
      }
      for (const auto& [name, value] : route.fields) obj[name] = value;
      batch.push_back(Event::from_json(std::move(obj)));
      decorate(batch.back());
    }
  }
  if (!route.required.empty() && !has_required(batch, route.required, error)) return fail(res, 400, error);
  const std::size_t n = batch.size();

  std::shared_ptr<Pending> pending;
  if (route.answer_on_ack) {
    pending = std::make_shared<Pending>();
    AckHandle ack = Ack::create([pending](AckStatus st) {
      std::function<void(AckStatus)> reply;
      {
        std::lock_guard lock(pending->mu);
        pending->done = true;
        pending->status = st;
        reply = std::move(pending->reply);
      }
      if (reply)
        reply(st);
      else
        pending->cv.notify_one();
    });
    for (auto& ev : batch) ev.ack = ack;
  }

  // On the server's event loops (answers that can be deferred) a request never waits for room
  // there: one that finds the pipeline full waits in the waiting room, in arrival order.
  auto* deferrable = dynamic_cast<HttpDeferrable*>(&res);
  EmitResult result = EmitResult::Stopping;
  {
    std::unique_lock lock(mu);
    if (open && sctx && (!deferrable || room.empty())) {
      ++emitting;
      SourceContext* ctx = sctx;
      lock.unlock();
      result = ctx->try_emit(batch, deferrable ? milliseconds{0} : emit_timeout);
      lock.lock();
      --emitting;
      cv.notify_all();
    } else if (open && sctx) {
      result = EmitResult::Full;  // others wait before it: behind them
    }
  }
  if (result == EmitResult::Full && deferrable && emit_timeout.count() > 0) {
    auto self = shared_from_this();
    auto later = deferrable->defer(Clock::now() + emit_timeout + ack_timeout, [self](HttpLaterAnswer& a) {
      self->fail(a, 503, self->ack_timeout_message());
    });
    if (later) {
      std::lock_guard lock(mu);
      room.push_back(Waiting{std::move(batch), Clock::now() + emit_timeout,
                             [self, r = &route, n, pending, later, flight](EmitResult er) {
                               if (er == EmitResult::Full)
                                 return self->fail(*later, 503, "the pipeline is full; retry later");
                               if (er == EmitResult::Stopping)
                                 return self->fail(*later, 503, "the pipeline is stopping; retry later");
                               self->events->inc(n);
                               self->answer_when_acked(*r, pending, later, flight);
                             }});
      room_cv.notify_one();
      return;
    }
  }
  if (result == EmitResult::Full) return fail(res, 503, "the pipeline is full; retry later");
  if (result == EmitResult::Stopping) return fail(res, 503, "the pipeline is stopping; retry later");
  events->inc(n);

  if (pending) {
    // Answered by the thread that completes the acknowledgement: no server thread sleeps.
    if (deferrable) {
      auto self = shared_from_this();
      auto later = deferrable->defer(Clock::now() + ack_timeout, [self](HttpLaterAnswer& a) {
        self->fail(a, 503, self->ack_timeout_message());
      });
      if (later) return answer_when_acked(route, pending, later, std::move(flight));
    }
    // This connection cannot defer (TLS): its thread waits.
    std::unique_lock lock(pending->mu);
    if (!pending->cv.wait_for(lock, ack_timeout, [&] { return pending->done; }))
      return fail(res, 503, ack_timeout_message());
    if (pending->status == AckStatus::Failed)
      return fail(res, 503, "the sinks could not store the event; retry later");
  }
  answer(res, route.status, route.content_type, route.response);
  count(route.status);
}

void Shared::answer_when_acked(const Route& route, const std::shared_ptr<Pending>& pending,
                               const std::shared_ptr<HttpLaterAnswer>& later, std::shared_ptr<void> flight) {
  if (!pending) {  // answer: accept
    if (later->send(route.status, route.content_type, route.response)) count(route.status);
    return;
  }
  std::unique_lock lock(pending->mu);
  if (!pending->done) {
    pending->reply = [self = shared_from_this(), r = &route, later,
                      flight = std::move(flight)](AckStatus st) { self->acked(*r, *later, st); };
    return;
  }
  const AckStatus st = pending->status;
  lock.unlock();
  acked(route, *later, st);
}

void Shared::serve_room() {
  std::unique_lock lock(mu);
  for (;;) {
    if (room.empty()) {
      if (room_stop) return;
      room_cv.wait(lock);
      continue;
    }
    Waiting& w = room.front();
    EmitResult r = EmitResult::Stopping;
    if (open && sctx && !room_stop) {
      ++emitting;
      SourceContext* ctx = sctx;
      lock.unlock();
      // A short wait, so that the deadline of the first in line is kept.
      r = ctx->try_emit(
          w.batch,
          std::min<milliseconds>(milliseconds{20}, std::chrono::ceil<milliseconds>(w.until - Clock::now())));
      lock.lock();
      --emitting;
      cv.notify_all();
      if (r == EmitResult::Full && Clock::now() < w.until) continue;
    }
    {
      auto done = std::move(w.done);
      room.pop_front();
      lock.unlock();
      done(r);
    }  // its captures (the request's flight token) go before the lock is taken again
    lock.lock();
  }
}

const Schema& HttpSource::schema() {
  static const Schema s =
      SchemaBuilder()
          .option("listen", OptionType::String)
          .def("0.0.0.0:5000")
          .doc(
              "Address to listen on, host:port. Sources and services on the same address share one server "
              "(its first registration fixes the server settings below); a route clash is an error.")
          .option("routes", OptionType::ObjectList)
          .required()
          .nested(route_schema())
          .doc("The routes: method, path, body mode, fields to add, answer.")
          .option("max_body", OptionType::Size)
          .def("1MiB")
          .range(1, 1073741824)
          .doc(
              "Largest request body; larger ones get 413, enforced while reading (Content-Length or "
              "chunked).")
          .option("max_connections", OptionType::Int)
          .def("256")
          .range(1, 65536)
          .doc(
              "Connections: up to twice this many may be open at once; beyond that new connections get 503. "
              "Plain HTTP serves them all on the server's event loops; with TLS this many are served at "
              "once, "
              "each on its own thread, and the others wait.")
          .option("header_timeout", OptionType::Duration)
          .def("10s")
          .range(1, 3600000)
          .doc("Time for the request line and headers once their first byte arrived; then 408.")
          .option("body_timeout", OptionType::Duration)
          .def("10s")
          .range(1, 3600000)
          .doc("Time to receive the whole body; then 408.")
          .option("read_timeout", OptionType::Duration)
          .def("10s")
          .range(1, 3600000)
          .doc(
              "Longest wait for a new connection's first request (then it is closed); with TLS, for any "
              "bytes of a request (then 408).")
          .option("keep_alive_timeout", OptionType::Duration)
          .def("15s")
          .range(1, 3600000)
          .doc("How long an idle keep-alive connection stays open.")
          .option("emit_timeout", OptionType::Duration)
          .def("1s")
          .range(0, 600000)
          .doc("How long a request waits for room when the pipeline is full; then 503 with Retry-After.")
          .option("ack_timeout", OptionType::Duration)
          .def("5s")
          .range(1, 600000)
          .doc(
              "How long a request waits for its acknowledgement (answer: ack); then 503 with Retry-After. "
              "The "
              "event may still be delivered: clients that retry can cause duplicates (at-least-once).")
          .option("retry_after", OptionType::Int)
          .def("1")
          .range(0, 3600)
          .doc("Seconds sent in Retry-After with 503.")
          .option("tls_certificate", OptionType::String)
          .doc("PEM certificate (chain) file: serve HTTPS (TLS 1.2 or newer). Needs `tls_private_key`.")
          .option("tls_private_key", OptionType::String)
          .doc("PEM private key file of `tls_certificate`.")
          .option("auth", OptionType::Object)
          .nested(auth_schema())
          .doc("Authentication for every route without its own `auth`.")
          .option("cors", OptionType::Object)
          .nested(cors_schema())
          .doc("CORS for browser clients: allowed origins; preflight (OPTIONS) is answered for every path.")
          .build();
  return s;
}

HttpSource::HttpSource(PluginContext& ctx, const Config& config)
    : ctx_(ctx), shared_(std::make_shared<Shared>(ctx)) {
  Shared& s = *shared_;
  s.server.listen = config.str("listen");
  const auto max_conn = static_cast<std::size_t>(config.integer("max_connections"));
  s.server.max_threads = max_conn;
  s.server.max_queued = max_conn;
  s.server.max_connections = 2 * max_conn;  // served + waiting, as documented above
  s.server.header_timeout = config.duration("header_timeout");
  s.server.read_timeout = config.duration("read_timeout");
  s.server.keep_alive_timeout = config.duration("keep_alive_timeout");
  if (config.has("tls_certificate")) {
    s.server.tls_certificate = config.str("tls_certificate");
    s.server.tls_private_key = config.str("tls_private_key");
  }
  s.max_body = static_cast<std::size_t>(config.size("max_body"));
  s.body_timeout = config.duration("body_timeout");
  s.server.max_body = s.max_body;  // the server reads bodies whole before the handler runs
  s.server.body_timeout = s.body_timeout;
  s.emit_timeout = config.duration("emit_timeout");
  s.ack_timeout = config.duration("ack_timeout");
  s.retry_after = std::to_string(config.integer("retry_after"));

  Auth default_auth;
  if (config.has("auth")) default_auth = load_auth(config.child("auth"));
  if (config.has("cors")) {
    const Config c = config.child("cors");
    s.cors.enabled = true;
    s.cors.origins = c.strings("origins");
    s.cors.any = std::find(s.cors.origins.begin(), s.cors.origins.end(), "*") != s.cors.origins.end();
    s.cors.max_age = std::to_string(c.duration("max_age").count() / 1000);
  }

  for (const Config& rc : config.children("routes")) {
    auto r = std::make_shared<Route>();
    r->path = rc.str("path");
    r->method = rc.str("method");
    if (rc.has("body")) {
      r->body = *parse_body_mode(rc.str("body"));
    } else {
      r->body = (r->method == "GET" || r->method == "DELETE") ? BodyMode::None : BodyMode::Json;
    }
    if (rc.has("fields"))
      for (auto& [k, v] : rc.string_map("fields")) r->fields.emplace_back(k, v);
    if (rc.has("query")) {
      r->query = rc.strings("query");
      r->all_query = std::find(r->query.begin(), r->query.end(), "*") != r->query.end();
    }
    if (rc.has("headers")) {
      r->headers = rc.strings("headers");
      r->all_headers = std::find(r->headers.begin(), r->headers.end(), "*") != r->headers.end();
    }
    bool has_params = r->path.find('{') != std::string::npos;
    r->pass_through = r->fields.empty() && r->query.empty() && r->headers.empty() && !has_params;
    if (rc.has("required"))
      for (const std::string& f : rc.strings("required")) {
        std::string why;
        auto path = FieldPath::parse(f, &why);
        if (!path) throw std::runtime_error(rc.where("required") + ": required: " + why);
        r->required.push_back(std::move(*path));
      }
    r->status = static_cast<int>(rc.integer("status"));
    r->response = rc.str("response");
    if (rc.has("content_type")) {
      r->content_type = rc.str("content_type");
    } else {
      const auto first = r->response.find_first_not_of(" \t\r\n");
      const bool json =
          first != std::string::npos && (r->response[first] == '{' || r->response[first] == '[');
      r->content_type = json ? "application/json" : "text/plain; charset=utf-8";
    }
    r->answer_on_ack = rc.str("answer") == "ack";
    r->auth = rc.has("auth") ? load_auth(rc.child("auth")) : default_auth;
    s.routes.push_back(std::move(r));
  }

  auto& m = ctx.metrics();
  for (std::size_t i = 0; i + 1 < Shared::codes.size(); ++i)
    s.responses[i] = &m.counter("sluice_http_responses_total", "Answers of the http source by status code",
                                {{"code", std::to_string(Shared::codes[i])}});
  s.events = &m.counter("sluice_http_events_total", "Events the http source handed to the pipeline");
}

HttpSource::~HttpSource() {
  // Requests being answered finish first (each is bounded by its body, emit and ack timeouts);
  // then the routes go. A handler that starts later finds `gone` and touches nothing of ours.
  {
    std::unique_lock lock(shared_->mu);
    shared_->open = false;
    shared_->cv.wait(lock, [&] { return shared_->in_flight == 0; });
    shared_->gone = true;
  }
  registration_.reset();
}

void HttpSource::run(SourceContext& ctx) {
  std::vector<HttpRoute> routes;
  std::map<std::string, std::string> methods_by_path;
  std::string listing;
  for (const auto& r : shared_->routes) {
    routes.push_back(
        HttpRoute{r->method, r->path,
                  [s = shared_, r](Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res,
                                   const PathParams& params) { s->handle(*r, req, res, params); }});
    auto& m = methods_by_path[r->path];
    m += (m.empty() ? "" : ", ") + r->method;
    listing += (listing.empty() ? "" : ", ") + r->method + " " + r->path;
  }
  if (shared_->cors.enabled)
    for (const auto& [path, methods] : methods_by_path)
      routes.push_back(HttpRoute{"OPTIONS", path,
                                 [s = shared_, m = methods + ", OPTIONS"](
                                     Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res,
                                     const PathParams&) { s->preflight(m, req, res); }});
  // Open before the routes exist: the first request must not find the source still starting.
  {
    std::lock_guard lock(shared_->mu);
    shared_->sctx = &ctx;
    shared_->open = true;
    shared_->room_stop = false;
  }
  try {
    registration_ = ctx.http().add(shared_->server, std::move(routes));
  } catch (const std::exception& e) {
    std::lock_guard lock(shared_->mu);
    shared_->open = false;
    shared_->sctx = nullptr;
    throw std::runtime_error(ctx.id() + ": " + e.what());
  }
  room_thread_ = std::thread([s = shared_] { s->serve_room(); });
  ctx.log().info("listening on http://", registration_->bound_address(), " for ", listing);
  while (!ctx.wait_stop(std::chrono::hours(1))) {
  }
  // New requests now get 503, and so do those in the waiting room; the ones already in the
  // pipeline are answered when their acknowledgements arrive (the runtime drains the sinks
  // after this returns).
  {
    std::lock_guard lock(shared_->mu);
    shared_->open = false;
    shared_->room_stop = true;
  }
  shared_->room_cv.notify_all();
  if (room_thread_.joinable()) room_thread_.join();
  std::unique_lock lock(shared_->mu);
  shared_->cv.wait(lock, [&] { return shared_->emitting == 0; });
  shared_->sctx = nullptr;
}

}  // namespace sluice::http_source
