#pragma once
/**
 * @file http.hpp
 * @brief Shared HTTP servers. Every component that serves HTTP (the admin
 * endpoint, the http source, the SRP service) registers routes here; routes
 * on the same listen address share one Poco::Net::HTTPServer.
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

/** Handles one matched request. Called on a server thread; must be thread-safe. */
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
   * ones set on the response before defer(). False when the request was already answered
   * or its connection is gone (the client then learns nothing).
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
 * Poco serves each connection on one thread for the connection's whole life
 * (keep-alive included), so `max_threads` is how many clients are served at
 * once; further connections wait in a queue of `max_queued`. Connections are
 * counted from the moment they are accepted: beyond `max_connections` open
 * ones (or `max_threads + max_queued`, whichever is lower) a new connection
 * gets 503 at once and is closed.
 * A client cannot hold a thread by being slow: `read_timeout` bounds every
 * wait for bytes, and `header_timeout` bounds the whole request line and
 * headers once their first byte arrived (a client trickling a byte a
 * second gets 408). Bodies are read by the handlers, which bound them.
 */
struct HttpServerOptions {
  std::string listen = "127.0.0.1:0";  ///< host:port; port 0 picks a free port
  std::size_t max_threads = 16;
  std::size_t max_queued = 256;                     ///< accepted connections waiting for a thread
  std::size_t max_connections = 1024;               ///< open connections (served and queued); beyond: 503
  std::chrono::milliseconds read_timeout{10000};    ///< longest wait for any bytes (headers and body)
  std::chrono::milliseconds header_timeout{10000};  ///< request line and headers, from their first byte
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
