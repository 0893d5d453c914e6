// Shared HTTP servers on Poco::Net::HTTPServer. Every listen address has one
// server; registrations add and remove route sets on it. The route table is
// an immutable snapshot swapped atomically, so a request never takes a lock
// that a registration holds.
#include "http/http_servers.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <mutex>
#include <stdexcept>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
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

void send_json_error(Poco::Net::HTTPServerResponse& res, Poco::Net::HTTPResponse::HTTPStatus status,
                     const std::string& message) {
  if (res.sent()) return;
  res.setStatus(status);
  res.setContentType("application/json");
  const std::string body = nlohmann::json{{"error", message}}.dump();
  res.setContentLength(static_cast<std::streamsize>(body.size()));
  res.send() << body;
}

class Dispatch : public Poco::Net::HTTPRequestHandler {
 public:
  explicit Dispatch(std::shared_ptr<const RouteTable> routes) : routes_(std::move(routes)) {}

  void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res) override {
    const std::string& uri = req.getURI();
    const std::string path = uri.substr(0, uri.find_first_of("?#"));
    const auto parts = split_path(path);
    const std::string& method = req.getMethod();

    // The most specific route wins: most literal segments, then no wildcard.
    const CompiledRoute* best = nullptr;
    std::vector<std::string> allowed;
    for (const auto& r : *routes_) {
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
    best->match(parts, &params);
    try {
      best->handler(req, res, params);
    } catch (const std::exception& e) {
      send_json_error(res, Poco::Net::HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, e.what());
    }
  }

 private:
  std::shared_ptr<const RouteTable> routes_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(std::shared_ptr<std::atomic<std::shared_ptr<const RouteTable>>> routes)
      : routes_(std::move(routes)) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new Dispatch(routes_->load(std::memory_order_acquire));
  }

 private:
  std::shared_ptr<std::atomic<std::shared_ptr<const RouteTable>>> routes_;
};

/** One listening server and its routes. */
class Server {
 public:
  explicit Server(const HttpServerOptions& o) {
    if (!o.tls_certificate.empty() || !o.tls_private_key.empty())
      throw std::runtime_error("HTTP listen " + o.listen + ": TLS is not supported by this build");
    std::string listen = o.listen;
    if (!listen.empty() && listen.front() == ':') listen = "0.0.0.0" + listen;
    try {
      Poco::Net::SocketAddress addr(listen);
      // SO_REUSEADDR for quick restarts, but not SO_REUSEPORT (Poco's default): a second
      // daemon on the same port must fail instead of silently sharing connections.
      socket_.bind(addr, true, false);
      socket_.listen(128);
    } catch (const Poco::Exception& e) {
      throw std::runtime_error("HTTP listen " + o.listen + ": " + e.displayText());
    }
    bound_ = socket_.address().toString();
    const int threads = static_cast<int>(std::max<std::size_t>(1, o.max_threads));
    pool_ = std::make_unique<Poco::ThreadPool>(std::min(2, threads), threads);
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(threads);
    params->setMaxQueued(static_cast<int>(o.max_queued));
    params->setTimeout(Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(o.read_timeout.count()) * 1000));
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(
        Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(o.keep_alive_timeout.count()) * 1000));
    params->setMaxKeepAliveRequests(static_cast<int>(o.max_keep_alive_requests));
    params->setServerName("sluice");
    routes_ = std::make_shared<std::atomic<std::shared_ptr<const RouteTable>>>(
        std::make_shared<const RouteTable>());
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(routes_), *pool_, socket_, params);
    server_->start();
  }

  ~Server() {
    // Abort keep-alive connections: waiting for idle clients would delay shutdown by the keep-alive timeout.
    server_->stopAll(true);
    server_.reset();
    pool_->joinAll();
  }

  const std::string& bound() const { return bound_; }

  /** Called with the owner's mutex held. */
  void add(std::uint64_t owner, std::vector<HttpRoute> routes) {
    auto current = routes_->load();
    auto next = std::make_shared<RouteTable>(*current);
    for (auto& r : routes) {
      CompiledRoute c = CompiledRoute::compile(owner, std::move(r));
      for (const auto& e : *next) {
        if (e.same_shape(c) && (e.method == c.method || e.method == "*" || c.method == "*"))
          throw std::runtime_error("HTTP route " + c.method + " " + c.pattern + " on " + bound_ +
                                   " clashes with " + e.method + " " + e.pattern);
      }
      next->push_back(std::move(c));
    }
    routes_->store(std::move(next), std::memory_order_release);
  }

  /** Called with the owner's mutex held; returns the number of routes left. */
  std::size_t remove(std::uint64_t owner) {
    auto next = std::make_shared<RouteTable>(*routes_->load());
    next->erase(
        std::remove_if(next->begin(), next->end(), [&](const CompiledRoute& r) { return r.owner == owner; }),
        next->end());
    const std::size_t left = next->size();
    routes_->store(std::move(next), std::memory_order_release);
    return left;
  }

 private:
  Poco::Net::ServerSocket socket_;
  std::string bound_;
  std::unique_ptr<Poco::ThreadPool> pool_;
  std::shared_ptr<std::atomic<std::shared_ptr<const RouteTable>>> routes_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
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
  if (created) impl_->servers.emplace(server->bound(), server);
  return std::make_unique<Registration>(std::weak_ptr<ServersState>(impl_), std::move(server), owner);
}

}  // namespace sluice::core
