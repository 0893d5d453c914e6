#pragma once
/**
 * @file http.hpp
 * @brief Shared HTTP servers. Every component that serves HTTP (the admin
 * endpoint, the http source, the SRP service) registers routes here; routes
 * on the same listen address share one server. Handlers see Poco's request and
 * response types; plain HTTP is served by the core's event loops, TLS by Poco.
 */
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

namespace sluice {

/** Path parameters captured by `{name}` segments of a route's path. */
using PathParams = std::map<std::string, std::string>;

/**
 * Handles one matched request. Called on a server thread (an event loop for plain HTTP:
 * return quickly, defer an answer that must wait); must be thread-safe.
 */
using HttpHandler =
    std::function<void(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse&, const PathParams&)>;

/**
 * An answer given after the handler returned (see HttpDeferrable). Thread-safe:
 * any thread may send it, once; the first send (or the deadline's) wins.
 */
class HttpLaterAnswer {
 public:
  virtual ~HttpLaterAnswer() = default;
  /**
   * Sends the answer: @p status, a body of @p content_type, and @p headers besides the
   * ones set on the response before defer() (but its Content-Type). False when the request was already
   * answered or its connection is gone (the client then learns nothing).
   */
  virtual bool send(int status, const std::string& content_type, const std::string& body,
                    const std::vector<std::pair<std::string, std::string>>& headers = {}) = 0;
};

/**
 * Implemented by the responses of the core's HTTP servers. A handler that waits for
 * something another thread completes (an acknowledgement) can return at once and answer
 * from that thread: no server thread sleeps for it, and the connection's thread goes on
 * reading the client's next request. Answers on one connection still go out in request
 * order: a pipelined request waits until the one before it is answered.
 *
 * Usage: `if (auto* d = dynamic_cast<sluice::HttpDeferrable*>(&res)) later = d->defer(...);`
 */
class HttpDeferrable {
 public:
  /**
   * Defers the answer. Unless answered before @p deadline, @p on_deadline runs once on
   * the connection's thread at the deadline (typically sending a 503 through the
   * answer it is given). Returns nullptr when this connection cannot defer (TLS): the
   * handler must then answer before it returns. At most once per request.
   */
  virtual std::shared_ptr<HttpLaterAnswer> defer(std::chrono::steady_clock::time_point deadline,
                                                 std::function<void(HttpLaterAnswer&)> on_deadline) = 0;

 protected:
  ~HttpDeferrable() = default;
};

/** One route: method and path pattern (`/purchase/{item}`; a last segment `*` matches any rest). */
struct HttpRoute {
  std::string method;  ///< "GET", "POST", ...; "*" for any
  std::string path;
  HttpHandler handler;
};

/**
 * Settings of one listening server. The first registration on an address fixes them.
 *
 * Plain HTTP is served by `io_threads` event loops: each reads and parses the
 * requests of many connections and runs their handlers on its own thread, so a
 * handler must not block for long (it holds the loop's other connections); one
 * that waits for something defers its answer (HttpDeferrable). A request's body
 * is read whole, up to `max_body` bytes, before its handler runs; a longer one
 * is left unread (the handler sees its Content-Length, or the first
 * `max_body + 1` bytes of a chunked body, and should answer 413; the connection
 * closes after the answer). At `max_connections` open connections, a new one
 * closes the longest-idle connection (one between requests, or one that has sent
 * nothing yet) and takes its place; with none idle it gets 503 at once. The request
 * bytes buffered for all clients together stay under `max_buffered`: the connection
 * that would go over is answered 503 and closed. A client cannot hold anything by
 * being slow:
 * `header_timeout` bounds the request line and headers from their first byte,
 * `body_timeout` the body (both answered 408), `read_timeout` the wait for a
 * new connection's first request, `keep_alive_timeout` an idle connection.
 *
 * TLS connections are served by Poco, a thread per connection for its whole
 * life: `max_threads` are served at once and `max_queued` more wait; there the
 * handler reads the body from the request stream (`read_timeout` bounds each
 * wait for bytes) and cannot defer.
 */
struct HttpServerOptions {
  std::string listen = "127.0.0.1:0";   ///< host:port; port 0 picks a free port
  std::size_t io_threads = 2;           ///< event loops serving plain HTTP
  std::size_t max_threads = 16;         ///< TLS: connections served at once
  std::size_t max_queued = 256;         ///< TLS: accepted connections waiting for a thread
  std::size_t max_connections = 1024;   ///< open connections; beyond: 503
  std::size_t max_body = 1 << 20;       ///< plain HTTP: longest body read before the handler runs
  std::size_t max_buffered = 64 << 20;  ///< plain HTTP: request bytes held for all clients; 0: no bound
  std::chrono::milliseconds read_timeout{10000};    ///< longest wait for a request's first bytes
  std::chrono::milliseconds header_timeout{10000};  ///< request line and headers, from their first byte
  std::chrono::milliseconds body_timeout{10000};    ///< plain HTTP: the whole body, once the headers are in
  std::chrono::milliseconds keep_alive_timeout{15000};
  std::size_t max_keep_alive_requests = 0;  ///< 0: unlimited
  std::string tls_certificate;              ///< PEM paths; TLS when both are set
  std::string tls_private_key;
};

/** Removes its routes when destroyed; the server stops when its last route goes. */
class HttpRegistration {
 public:
  virtual ~HttpRegistration() = default;
  /** The address actually bound (useful with port 0), "host:port". */
  virtual std::string bound_address() const = 0;
};

/** The core's HTTP servers. */
class HttpServers {
 public:
  virtual ~HttpServers() = default;
  /**
   * Registers @p routes on the server for @p options.listen, starting it if
   * needed. Throws std::runtime_error when the address cannot be bound or a
   * route clashes with one already registered there.
   */
  virtual std::unique_ptr<HttpRegistration> add(const HttpServerOptions& options,
                                                std::vector<HttpRoute> routes) = 0;
};

}  // namespace sluice
