#pragma once
// The plain-HTTP side of the shared servers: a few epoll threads serve every
// connection of a listening socket, without a thread per connection.
#include <functional>
#include <memory>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "sluice/http.hpp"

namespace sluice::core {

/** Routes one parsed request (the server's route table). */
using HttpDispatch = std::function<void(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse&)>;

/**
 * Serves HTTP/1.1 on a bound, listening socket with `io_threads` epoll loops.
 * Each loop accepts, reads and parses requests of its connections, reads their
 * bodies whole (up to `max_body`), and calls the dispatch on its own thread with
 * Poco request/response objects, so handlers keep the Poco API. A handler may
 * defer its answer (HttpDeferrable); any thread then writes it. Limits and
 * timeouts of HttpServerOptions apply: 503 beyond `max_connections`, 431 for
 * oversize headers, 408 when headers or body come too slowly, keep-alive idle
 * timeout. Handlers must not block for long: they hold their loop's other
 * connections meanwhile.
 */
class HttpReactor {
 public:
  /** Serves @p listen_fd (bound and listening; the caller closes it after this is destroyed). */
  HttpReactor(int listen_fd, const HttpServerOptions& options, HttpDispatch dispatch);
  ~HttpReactor();
  HttpReactor(const HttpReactor&) = delete;
  HttpReactor& operator=(const HttpReactor&) = delete;

  void start();

  struct Impl;  ///< shared by the loops (reactor.cpp)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::core
