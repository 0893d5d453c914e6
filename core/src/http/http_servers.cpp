// Shared HTTP servers. Every listen address has one server; registrations add
// and remove route sets on it. Plain HTTP is served by HttpReactor's event loops
// (reactor.cpp), TLS by Poco's TCPServer with a thread per connection. The route table is
// an immutable snapshot swapped atomically, so a request never takes a lock
// that a registration holds.
#include "http/http_servers.hpp"

#include "http/reactor.hpp"

#include "sluice/event.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <sys/socket.h>

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>
#include <nlohmann/json.hpp>

namespace sluice::core {
namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    std::size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

/** One route, compiled. */
struct CompiledRoute {
  std::uint64_t owner = 0;  ///< registration id
  std::string method;
  std::string pattern;
  std::vector<std::string> segments;  ///< literal, "{name}" or a last "*"
  bool rest = false;                  ///< last segment is "*"
  std::size_t literals = 0;
  HttpHandler handler;
  /**
   * Set once its registration is gone (a pipeline stopping or replaced): until then the route
   * answers 503 with Retry-After instead of 404, which clients would not retry; steady ms.
   */
  std::int64_t gone_until = 0;

  static bool is_param(const std::string& s) { return s.size() > 2 && s.front() == '{' && s.back() == '}'; }

  static CompiledRoute compile(std::uint64_t owner, HttpRoute r) {
    if (r.path.empty() || r.path.front() != '/')
      throw std::runtime_error("HTTP route path '" + r.path + "' must start with '/'");
    if (r.method.empty()) throw std::runtime_error("HTTP route " + r.path + " has no method");
    if (!r.handler) throw std::runtime_error("HTTP route " + r.path + " has no handler");
    CompiledRoute c;
    c.owner = owner;
    c.method = r.method;
    std::transform(c.method.begin(), c.method.end(), c.method.begin(),
                   [](unsigned char ch) { return std::toupper(ch); });
    c.pattern = r.path;
    c.segments = split_path(r.path);
    for (std::size_t i = 0; i < c.segments.size(); ++i) {
      const auto& s = c.segments[i];
      if (s == "*") {
        if (i + 1 != c.segments.size())
          throw std::runtime_error("HTTP route " + r.path + ": '*' is only allowed as the last segment");
        c.rest = true;
      } else if (!is_param(s)) {
        ++c.literals;
      }
    }
    if (c.rest) c.segments.pop_back();
    c.handler = std::move(r.handler);
    return c;
  }

  /** Same shape (ignoring parameter names): two such routes could never be told apart. */
  bool same_shape(const CompiledRoute& o) const {
    if (rest != o.rest || segments.size() != o.segments.size()) return false;
    for (std::size_t i = 0; i < segments.size(); ++i) {
      const bool p1 = is_param(segments[i]), p2 = is_param(o.segments[i]);
      if (p1 != p2 || (!p1 && segments[i] != o.segments[i])) return false;
    }
    return true;
  }

  bool match(const std::vector<std::string>& parts, PathParams* params) const {
    if (rest ? parts.size() < segments.size() : parts.size() != segments.size()) return false;
    for (std::size_t i = 0; i < segments.size(); ++i) {
      const auto& s = segments[i];
      if (is_param(s)) {
        if (params) {
          std::string decoded;
          Poco::URI::decode(parts[i], decoded);
          (*params)[s.substr(1, s.size() - 2)] = std::move(decoded);
        }
      } else if (s != parts[i]) {
        return false;
      }
    }
    if (rest && params) {
      std::string tail;
      for (std::size_t i = segments.size(); i < parts.size(); ++i) {
        if (!tail.empty()) tail += '/';
        tail += parts[i];
      }
      std::string decoded;
      Poco::URI::decode(tail, decoded);
      (*params)["*"] = std::move(decoded);
    }
    return true;
  }
};

using RouteTable = std::vector<CompiledRoute>;

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/** How long a removed route answers 503 (a reload or restart brings it back within this). */
constexpr std::int64_t kGoneRouteMs = 30000;

void send_json_error(Poco::Net::HTTPServerResponse& res, Poco::Net::HTTPResponse::HTTPStatus status,
                     const std::string& message) {
  if (res.sent()) return;
  res.setStatus(status);
  res.setContentType("application/json");
  const std::string body = nlohmann::json{{"error", safe_utf8(message)}}.dump();
  res.setContentLength(static_cast<std::streamsize>(body.size()));
  res.send() << body;
}

class Dispatch {
 public:
  explicit Dispatch(std::shared_ptr<const RouteTable> routes) : routes_(std::move(routes)) {}

  void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res) {
    const std::string& uri = req.getURI();
    const std::string path = uri.substr(0, uri.find_first_of("?#"));
    const auto parts = split_path(path);
    const std::string& method = req.getMethod();

    // The most specific route wins: most literal segments, then no wildcard.
    const CompiledRoute* best = nullptr;
    std::vector<std::string> allowed;
    const std::int64_t now = steady_ms();
    for (const auto& r : *routes_) {
      if (r.gone_until != 0 && now >= r.gone_until) continue;
      if (!r.match(parts, nullptr)) continue;
      const bool method_ok = r.method == "*" || r.method == method || (method == "HEAD" && r.method == "GET");
      if (!method_ok) {
        if (std::find(allowed.begin(), allowed.end(), r.method) == allowed.end()) allowed.push_back(r.method);
        continue;
      }
      if (!best || r.literals > best->literals || (r.literals == best->literals && best->rest && !r.rest))
        best = &r;
    }
    if (!best) {
      if (!allowed.empty()) {
        std::sort(allowed.begin(), allowed.end());
        std::string allow;
        for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
        res.set("Allow", allow);
        send_json_error(res, Poco::Net::HTTPResponse::HTTP_METHOD_NOT_ALLOWED,
                        "method " + method + " not allowed on " + path + "; allowed: " + allow);
      } else {
        send_json_error(res, Poco::Net::HTTPResponse::HTTP_NOT_FOUND, "no route for " + path);
      }
      return;
    }
    PathParams params;
    try {
      best->match(parts, &params);
    } catch (const Poco::Exception&) {  // a `%` without two hex digits in a path parameter
      send_json_error(res, Poco::Net::HTTPResponse::HTTP_BAD_REQUEST,
                      "malformed percent-encoding in the path " + path);
      return;
    }
    try {
      best->handler(req, res, params);
    } catch (const std::exception& e) {
      send_json_error(res, Poco::Net::HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, e.what());
    }
  }

 private:
  std::shared_ptr<const RouteTable> routes_;
};

using RouteTablePtr = std::shared_ptr<std::atomic<std::shared_ptr<const RouteTable>>>;

/**
 * Live connections of one server, and the watchdog that enforces the header
 * deadline. Poco's socket timeout bounds each wait for bytes, but a client
 * sending a byte every second never hits it; the watchdog shuts the
 * receiving side of such a connection, so its thread is free again.
 */
class Connections {
 public:
  struct Entry {
    Poco::Net::StreamSocket socket;
    std::atomic<std::int64_t> deadline_ms{0};  ///< steady clock; 0: none
    std::atomic<bool> timed_out{false};
  };

  Connections(std::size_t max, std::chrono::milliseconds header_timeout)
      : max_(max), header_timeout_(header_timeout), watchdog_([this] { watch(); }) {}

  ~Connections() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      quit_ = true;
    }
    cv_.notify_all();
    watchdog_.join();
  }

  /**
   * Counts a connection from the moment it is accepted (queued for a thread or served);
   * false when the server is at its connection limit or stopping. Every true is matched by
   * one closed().
   */
  bool admit() {
    std::lock_guard lock(mu_);
    if (stop_ || open_ >= max_) return false;
    ++open_;
    return true;
  }

  /** An admitted connection ended (its thread finished with it). */
  void closed() {
    std::lock_guard lock(mu_);
    if (open_ > 0) --open_;
  }

  /** Registers a served connection with the watchdog; nullptr when stopping. */
  std::shared_ptr<Entry> enter(const Poco::Net::StreamSocket& socket) {
    std::lock_guard lock(mu_);
    if (stop_) return nullptr;
    auto e = std::make_shared<Entry>();
    e->socket = socket;
    live_.push_back(e);
    return e;
  }

  void leave(const std::shared_ptr<Entry>& e) {
    std::lock_guard lock(mu_);
    live_.erase(std::remove(live_.begin(), live_.end(), e), live_.end());
  }

  /** Aborts every connection (server shutdown): blocked reads return, threads end. */
  void abort_all() {
    std::lock_guard lock(mu_);
    stop_ = true;
    for (auto& e : live_) {
      try {
        e->socket.shutdown();
      } catch (const Poco::Exception&) {
      }
    }
  }

  bool stopping() const {
    std::lock_guard lock(mu_);
    return stop_;
  }

  std::chrono::milliseconds header_timeout() const { return header_timeout_; }

 private:
  void watch() {
    std::unique_lock lock(mu_);
    while (!quit_) {
      cv_.wait_for(lock, std::chrono::milliseconds{100});
      const std::int64_t now = steady_ms();
      for (auto& e : live_) {
        const std::int64_t d = e->deadline_ms.load(std::memory_order_acquire);
        if (d == 0 || now < d || e->timed_out.exchange(true)) continue;
        // The blocked header read sees the end of input. On the descriptor itself, so that a TLS
        // socket (whose shutdownReceive() is not a plain shutdown) is cut the same way.
        ::shutdown(e->socket.impl()->sockfd(), SHUT_RD);
      }
    }
  }

  const std::size_t max_;
  const std::chrono::milliseconds header_timeout_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool quit_ = false;
  std::size_t open_ = 0;  ///< admitted and not yet closed: queued or served
  std::vector<std::shared_ptr<Entry>> live_;
  std::thread watchdog_;
};

void send_status_only(Poco::Net::HTTPServerSession& session, Poco::Net::HTTPResponse::HTTPStatus status,
                      const std::string& message) {
  try {
    Poco::Net::HTTPServerResponseImpl response(session);
    response.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
    response.setStatusAndReason(status);
    response.setKeepAlive(false);
    response.setContentType("application/json");
    const std::string body = nlohmann::json{{"error", safe_utf8(message)}}.dump();
    response.setContentLength(static_cast<std::streamsize>(body.size()));
    response.send() << body;
  } catch (...) {
    // The client is gone; nothing to tell it.
  }
  session.setKeepAlive(false);
}

/**
 * Poco's parser enforces the header limits (request line 16 KiB, field name 256 bytes, value
 * 8 KiB, 100 fields) and says so only in its message.
 */
bool header_too_large(const std::string& message) {
  return message.find("Field name too long") != std::string::npos ||
         message.find("Field value too long") != std::string::npos ||
         message.find("Too many header fields") != std::string::npos;
}

/**
 * A TLS server session: the first request waits up to the read timeout, the next ones up to
 * the keep-alive timeout. Poco's poll also sees bytes OpenSSL has already decrypted.
 */
class Session : public Poco::Net::HTTPServerSession {
 public:
  Session(const Poco::Net::StreamSocket& socket, Poco::Net::HTTPServerParams::Ptr params)
      : HTTPServerSession(socket, params),
        first_timeout_ms_(static_cast<int>(params->getTimeout().totalMilliseconds())),
        keep_alive_ms_(static_cast<int>(params->getKeepAliveTimeout().totalMilliseconds())),
        max_requests_(params->getMaxKeepAliveRequests()) {}

  /** True when another request's bytes are there (or came within the timeout). */
  bool next_request() {
    if (!socket().impl()->initialized()) return false;
    const bool first = served_ == 0;
    if (!first && !getKeepAlive()) return false;
    ++served_;
    if (buffered() > 0) return true;
    const int timeout = first ? first_timeout_ms_ : keep_alive_ms_;
    return socket().poll(Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(timeout) * 1000),
                         Poco::Net::Socket::SELECT_READ);
  }

  /** Keep-alive allowed for one more request (max_keep_alive_requests; 0: unlimited). */
  bool may_keep_alive() const { return max_requests_ <= 0 || served_ < max_requests_; }

 private:
  const int first_timeout_ms_;
  const int keep_alive_ms_;
  const int max_requests_;
  int served_ = 0;
};

/**
 * Poco's HTTPServerConnection loop, with the header deadline, 408 on header
 * timeouts and the connection limit added.
 */
class Connection : public Poco::Net::TCPServerConnection {
 public:
  Connection(const Poco::Net::StreamSocket& socket, Poco::Net::HTTPServerParams::Ptr params,
             RouteTablePtr routes, std::shared_ptr<Connections> connections)
      : TCPServerConnection(socket),
        params_(std::move(params)),
        routes_(std::move(routes)),
        connections_(std::move(connections)) {
    published_.store(true, std::memory_order_release);
  }

  void run() override {
    (void)published_.load(std::memory_order_acquire);  // see ConnectionFactory::published_
    struct Closed {
      Connections& c;
      ~Closed() { c.closed(); }
    } closed{*connections_};  // admitted by AdmissionFilter when it was accepted
    auto entry = connections_->enter(socket());
    if (!entry) return;  // the server is stopping
    Session session(socket(), params_);
    // Declared after the session, so it runs before the session's destructor closes the
    // descriptor: the watchdog must never shut a closed (and maybe reused) descriptor.
    struct Leave {
      Connections& c;
      std::shared_ptr<Connections::Entry>& e;
      ~Leave() { c.leave(e); }
    } leave{*connections_, entry};
    const std::int64_t header_ms = connections_->header_timeout().count();
    while (!connections_->stopping() && session.next_request()) {
      entry->deadline_ms.store(steady_ms() + header_ms, std::memory_order_release);
      try {
        Poco::Net::HTTPServerResponseImpl response(session);
        Poco::Net::HTTPServerRequestImpl request(response, session, params_);
        entry->deadline_ms.store(0, std::memory_order_release);
        if (entry->timed_out.load()) {  // the deadline passed just as the headers completed
          send_status_only(session, Poco::Net::HTTPResponse::HTTP_REQUEST_TIMEOUT,
                           "request headers too slow");
          break;
        }
        response.setDate(Poco::Timestamp());
        response.setVersion(request.getVersion());
        response.setKeepAlive(params_->getKeepAlive() && request.getKeepAlive() && session.may_keep_alive());
        response.set("Server", "sluice");
        Dispatch dispatch(routes_->load(std::memory_order_acquire));
        if (request.getExpectContinue() && response.getStatus() == Poco::Net::HTTPResponse::HTTP_OK)
          response.sendContinue();
        dispatch.handleRequest(request, response);
        if (!response.sent()) {
          response.setContentLength(0);
          response.send();
        }
        session.setKeepAlive(params_->getKeepAlive() && response.getKeepAlive() && session.may_keep_alive());
      } catch (const Poco::Net::NoMessageException&) {
        if (entry->timed_out.load())
          send_status_only(session, Poco::Net::HTTPResponse::HTTP_REQUEST_TIMEOUT,
                           "request headers too slow");
        break;
      } catch (const Poco::Net::MessageException& e) {
        if (entry->timed_out.load())
          send_status_only(session, Poco::Net::HTTPResponse::HTTP_REQUEST_TIMEOUT,
                           "request headers too slow");
        else if (header_too_large(e.message()))
          send_status_only(session, Poco::Net::HTTPResponse::HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
                           "request header too large: " + e.message());
        else
          send_status_only(session, Poco::Net::HTTPResponse::HTTP_BAD_REQUEST,
                           "malformed request: " + e.message());
        break;
      } catch (const Poco::TimeoutException&) {
        send_status_only(session, Poco::Net::HTTPResponse::HTTP_REQUEST_TIMEOUT, "request read timed out");
        break;
      } catch (const Poco::Exception&) {
        break;  // network error: the connection is gone
      }
    }
  }

 private:
  Poco::Net::HTTPServerParams::Ptr params_;
  RouteTablePtr routes_;
  std::shared_ptr<Connections> connections_;
  std::atomic<bool> published_{false};  ///< see ConnectionFactory::published_
};

class ConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
 public:
  ConnectionFactory(Poco::Net::HTTPServerParams::Ptr params, RouteTablePtr routes,
                    std::shared_ptr<Connections> connections)
      : params_(std::move(params)), routes_(std::move(routes)), connections_(std::move(connections)) {
    published_.store(true, std::memory_order_release);
  }
  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
    (void)published_.load(std::memory_order_acquire);
    return new Connection(socket, params_, routes_, connections_);
  }

 private:
  Poco::Net::HTTPServerParams::Ptr params_;
  RouteTablePtr routes_;
  std::shared_ptr<Connections> connections_;
  /**
   * Poco hands this object and each Connection to other threads through its own queues;
   * Debian's Poco is not instrumented, so ThreadSanitizer cannot see that hand-over. This
   * release/acquire pair makes it visible (and costs nothing).
   */
  std::atomic<bool> published_{false};
};

/**
 * Counts connections as they are accepted, before they wait in Poco's queue for a thread, and
 * closes those beyond the limit at once (no TLS handshake yet: a plain 503 would be garbage to
 * the client). Poco's own queue limit is never the one reached, and a count kept only by
 * running connections could not see the queue.
 */
class AdmissionFilter : public Poco::Net::TCPServerConnectionFilter {
 public:
  explicit AdmissionFilter(std::shared_ptr<Connections> connections) : connections_(std::move(connections)) {}

  bool accept(const Poco::Net::StreamSocket&) override { return connections_->admit(); }

 private:
  std::shared_ptr<Connections> connections_;
};

/** One listening server and its routes. */
class Server {
 public:
  explicit Server(const HttpServerOptions& o) {
    std::string listen = o.listen;
    if (!listen.empty() && listen.front() == ':') listen = "0.0.0.0" + listen;
    if (o.tls_certificate.empty() != o.tls_private_key.empty())
      throw std::runtime_error("HTTP listen " + o.listen +
                               ": TLS needs both a certificate and a private key");
    try {
      if (!o.tls_certificate.empty()) socket_ = tls_socket(o);
      Poco::Net::SocketAddress addr(listen);
      // SO_REUSEADDR for quick restarts, but not SO_REUSEPORT (Poco's default): a second
      // daemon on the same port must fail instead of silently sharing connections.
      socket_.bind(addr, true, false);
      socket_.listen(1024);
    } catch (const Poco::Exception& e) {
      if (tls_) Poco::Net::uninitializeSSL();
      throw std::runtime_error("HTTP listen " + o.listen + ": " + e.displayText());
    }
    bound_ = socket_.address().toString();
    routes_ = std::make_shared<std::atomic<std::shared_ptr<const RouteTable>>>(
        std::make_shared<const RouteTable>());
    if (!tls_) {
      reactor_ = std::make_unique<HttpReactor>(
          socket_.impl()->sockfd(), o,
          [routes = routes_](Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res) {
            Dispatch(routes->load(std::memory_order_acquire)).handleRequest(req, res);
          });
      return;
    }
    const int threads = static_cast<int>(std::max<std::size_t>(1, o.max_threads));
    pool_ = std::make_unique<Poco::ThreadPool>(std::min(2, threads), threads);
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(threads);
    // Open connections (queued or served) are bounded by AdmissionFilter; Poco's queue limit,
    // which closes connections without an answer, is set so that it is never the one reached.
    const std::size_t open_limit =
        std::max<std::size_t>(1, std::min(o.max_connections, static_cast<std::size_t>(threads) +
                                                                 std::max<std::size_t>(1, o.max_queued)));
    params->setMaxQueued(static_cast<int>(open_limit) + 1);
    params->setTimeout(Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(o.read_timeout.count()) * 1000));
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(
        Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(o.keep_alive_timeout.count()) * 1000));
    params->setMaxKeepAliveRequests(static_cast<int>(o.max_keep_alive_requests));
    params->setServerName("sluice");
    connections_ = std::make_shared<Connections>(open_limit, o.header_timeout);
    server_ = std::make_unique<Poco::Net::TCPServer>(new ConnectionFactory(params, routes_, connections_),
                                                     *pool_, socket_, params);
    server_->setConnectionFilter(new AdmissionFilter(connections_));
  }

  /** Starts accepting; called once the first routes are in, so no request sees an empty table. */
  void start() {
    if (reactor_)
      reactor_->start();
    else
      server_->start();
  }

  ~Server() {
    if (reactor_) {
      reactor_.reset();  // its loops end and close every connection
      socket_.close();
      return;
    }
    // Stop accepting, then abort open connections: waiting for idle keep-alive clients would
    // delay shutdown by the keep-alive timeout. Handlers still running finish on their own.
    server_->stop();
    connections_->abort_all();
    pool_->joinAll();
    server_.reset();
    socket_.close();
    if (tls_) Poco::Net::uninitializeSSL();
  }

  const std::string& bound() const { return bound_; }

  /** A listening socket that speaks TLS (1.2 or newer) with the given PEM certificate and key. */
  Poco::Net::ServerSocket tls_socket(const HttpServerOptions& o) {
    Poco::Net::initializeSSL();
    tls_ = true;
    Poco::Net::Context::Params p;
    p.certificateFile = o.tls_certificate;
    p.privateKeyFile = o.tls_private_key;
    p.verificationMode = Poco::Net::Context::VERIFY_NONE;  // clients are not asked for certificates
    p.loadDefaultCAs = false;
    p.cipherList = "HIGH:!aNULL:!MD5:!RC4";
    Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, p);
    context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    return Poco::Net::SecureServerSocket(context);
  }

  /** Called with the owner's mutex held. */
  void add(std::uint64_t owner, std::vector<HttpRoute> routes) {
    auto current = routes_->load();
    auto next = std::make_shared<RouteTable>(*current);
    for (auto& r : routes) {
      CompiledRoute c = CompiledRoute::compile(owner, std::move(r));
      // A route of a registration that is gone gives way to the new one.
      next->erase(std::remove_if(next->begin(), next->end(),
                                 [&](const CompiledRoute& e) {
                                   return e.gone_until != 0 && e.same_shape(c) &&
                                          (e.method == c.method || e.method == "*" || c.method == "*");
                                 }),
                  next->end());
      for (const auto& e : *next) {
        if (e.same_shape(c) && (e.method == c.method || e.method == "*" || c.method == "*"))
          throw std::runtime_error("HTTP route " + c.method + " " + c.pattern + " on " + bound_ +
                                   " clashes with " + e.method + " " + e.pattern);
      }
      next->push_back(std::move(c));
    }
    routes_->store(std::move(next), std::memory_order_release);
  }

  /**
   * Called with the owner's mutex held; returns the number of live routes left. The owner's
   * routes stay a while as 503 answers (see CompiledRoute::gone_until); their handlers,
   * which may point into a plugin being destroyed, are replaced.
   */
  std::size_t remove(std::uint64_t owner) {
    auto next = std::make_shared<RouteTable>(*routes_->load());
    const std::int64_t now = steady_ms();
    next->erase(
        std::remove_if(next->begin(), next->end(),
                       [&](const CompiledRoute& r) { return r.gone_until != 0 && now >= r.gone_until; }),
        next->end());
    std::size_t left = 0;
    for (auto& r : *next) {
      if (r.owner == owner) {
        r.gone_until = now + kGoneRouteMs;
        r.handler = [](Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& res, const PathParams&) {
          res.set("Retry-After", "1");
          send_json_error(res, Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE,
                          "this route's pipeline is stopping or being replaced; retry later");
        };
      } else if (r.gone_until == 0) {
        ++left;
      }
    }
    routes_->store(std::move(next), std::memory_order_release);
    return left;
  }

 private:
  Poco::Net::ServerSocket socket_;
  bool tls_ = false;
  std::string bound_;
  std::unique_ptr<Poco::ThreadPool> pool_;
  RouteTablePtr routes_;
  std::shared_ptr<Connections> connections_;
  std::unique_ptr<Poco::Net::TCPServer> server_;  ///< TLS
  std::unique_ptr<HttpReactor> reactor_;          ///< plain HTTP
};

std::string normalise_listen(const std::string& listen) {
  std::string l = listen;
  if (!l.empty() && l.front() == ':') l = "0.0.0.0" + l;
  try {
    return Poco::Net::SocketAddress(l).toString();
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("HTTP listen '" + listen + "': " + e.displayText());
  }
}

struct ServersState {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<Server>> servers;  ///< by bound address
  std::uint64_t next_owner = 1;
};

class Registration : public HttpRegistration {
 public:
  Registration(std::weak_ptr<ServersState> impl, std::shared_ptr<Server> server, std::uint64_t owner)
      : impl_(std::move(impl)), server_(std::move(server)), owner_(owner) {}
  ~Registration() override {
    std::shared_ptr<Server> stop;
    if (auto impl = impl_.lock()) {
      std::lock_guard lock(impl->mu);
      if (server_->remove(owner_) == 0) {
        impl->servers.erase(server_->bound());
        stop = std::move(server_);
      }
    } else {
      server_->remove(owner_);
    }
    // The server (and its threads) end outside the lock, when the last reference goes.
    server_.reset();
    stop.reset();
  }
  std::string bound_address() const override { return server_->bound(); }

 private:
  std::weak_ptr<ServersState> impl_;
  std::shared_ptr<Server> server_;
  std::uint64_t owner_;
};

}  // namespace

struct HttpServersImpl::Impl : ServersState {};

HttpServersImpl::HttpServersImpl() : impl_(std::make_shared<Impl>()) {}

HttpServersImpl::~HttpServersImpl() {
  std::map<std::string, std::shared_ptr<Server>> servers;
  {
    std::lock_guard lock(impl_->mu);
    servers.swap(impl_->servers);
  }
}

std::unique_ptr<HttpRegistration> HttpServersImpl::add(const HttpServerOptions& options,
                                                       std::vector<HttpRoute> routes) {
  const std::string key = normalise_listen(options.listen);
  const bool any_port = Poco::Net::SocketAddress(key).port() == 0;
  std::lock_guard lock(impl_->mu);
  std::shared_ptr<Server> server;
  // Port 0 asks for a fresh server on a free port; a fixed port is shared.
  if (!any_port) {
    if (auto it = impl_->servers.find(key); it != impl_->servers.end()) server = it->second;
  }
  const bool created = !server;
  if (created) server = std::make_shared<Server>(options);
  const std::uint64_t owner = impl_->next_owner++;
  server->add(owner, std::move(routes));  // throws on a clash; a new server is then dropped
  if (created) {
    server->start();
    impl_->servers.emplace(server->bound(), server);
  }
  return std::make_unique<Registration>(std::weak_ptr<ServersState>(impl_), std::move(server), owner);
}

}  // namespace sluice::core
