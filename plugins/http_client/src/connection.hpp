#pragma once
// One HTTP exchange of the http_client source, on Poco's client (NetSSL for
// https): connect, send the request, read the answer's head, then the body in
// the pieces the socket delivers. abort() from another thread ends a read that
// waits (shutdown of the socket), so stop() never waits for a stalled stream.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <Poco/Net/Context.h>

#include "client_settings.hpp"

namespace Poco::Net {
class HTTPClientSession;
class HTTPResponse;
}  // namespace Poco::Net

namespace sluice::http_client {

/** Why a read ended without bytes. */
enum class ReadEnd { Data, Eof, Stall, Error };

/** The answer's head. */
struct ResponseHead {
  int status = 0;
  std::string reason;
  std::string retry_after;       ///< Retry-After, as sent
  std::string rate_limit_reset;  ///< x-rate-limit-reset (epoch seconds), as sent
  std::string etag;
  std::string content_type;
};

/** The TLS context shared by a source's connections (created once, when the URL is https). */
class Tls {
 public:
  explicit Tls(const RequestSettings& settings);
  ~Tls();
  Tls(const Tls&) = delete;
  Tls& operator=(const Tls&) = delete;
  Poco::Net::Context::Ptr context() const { return context_; }

 private:
  Poco::Net::Context::Ptr context_;
  bool initialized_ = false;
};

class Connection {
 public:
  /** @p tls may be null for http:// URLs. */
  Connection(const RequestSettings& settings, const Tls* tls);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /**
   * Connects and sends the request with @p extra headers (If-None-Match, Last-Event-ID),
   * then reads the head. False with @p error (safe to log, never holding a credential)
   * when no head came.
   */
  bool open(const std::vector<std::pair<std::string, std::string>>& extra, ResponseHead& head,
            std::string& error);
  /**
   * Waits up to @p timeout for body bytes and appends what the socket delivered (at
   * most @p max) to @p out. Eof: the body ended (or the server closed the
   * connection); Stall: nothing for @p timeout; Error: with @p error.
   */
  ReadEnd read(std::string& out, std::size_t max, std::chrono::milliseconds timeout, std::string& error);
  /** Ends a read() waiting on another thread, and every later one (thread-safe). */
  void abort() noexcept;

 private:
  const RequestSettings& settings_;
  const Tls* tls_;
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
  std::unique_ptr<Poco::Net::HTTPResponse> response_;
  std::istream* body_ = nullptr;
  std::mutex mu_;  ///< guards fd_ against the session closing it while abort() shuts it down
  int fd_ = -1;
  std::atomic<bool> aborted_{false};
};

}  // namespace sluice::http_client
