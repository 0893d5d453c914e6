#pragma once
// The HTTP client of Elasticsearch / OpenSearch (the sink's and EsSearchIndex's): several hosts, a keep-alive
// connection pool per host, a failing host left alone for a while (doubling,
// up to a bound) while the others take the requests, optional gzip bodies,
// TLS with verification on by default, and credentials on every request.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>

#include <sluice/sdk.hpp>

#include "es_client_settings.hpp"

namespace sluice::elasticsearch {

/** The outcome of one request. */
struct HttpResult {
  bool answered = false;  ///< an HTTP answer came back whole (status and body)
  int status = 0;
  std::string body;
  std::string error;  ///< why there is no answer (connection refused, timeout, cut short)
  std::optional<std::chrono::milliseconds> retry_after;
  std::string host;  ///< the host that answered (or failed last)
};

class Client {
 public:
  Client(const ClientSettings& settings, Logger& log);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /**
   * Sends one request to a host that is up (or, when none is, to the one that is due
   * soonest). A connection error, a timeout or an answer cut short marks that host down
   * and tries the next one that is up, each host at most once; then `answered` is false.
   * A request that fails on a reused keep-alive connection before any answer is sent
   * again once on a new connection of the same host (the server may have closed it).
   */
  HttpResult request(const std::string& method, const std::string& path_and_query, std::string_view body = {},
                     const std::string& content_type = "application/json");

  /** Body bytes sent (after compression), in total. */
  std::uint64_t bytes_sent() const noexcept { return bytes_sent_.load(std::memory_order_relaxed); }
  /** Hosts that are up now. */
  std::size_t hosts_up() const;
  std::size_t host_count() const noexcept { return hosts_.size(); }

 private:
  struct Host;
  Host* pick(std::vector<Host*>& tried);
  /** One exchange on one connection; false (with the reason in @p r.error) when no whole answer came. */
  bool exchange(Host& host, Poco::Net::HTTPClientSession& session, const std::string& method,
                const std::string& target, std::string_view body, const std::string& content_type,
                HttpResult& r, bool& got_bytes);
  std::unique_ptr<Poco::Net::HTTPClientSession> take(Host& host, bool& reused);
  void give_back(Host& host, std::unique_ptr<Poco::Net::HTTPClientSession> session);
  void mark_down(Host& host, const std::string& why);
  void mark_up(Host& host);

  ClientSettings settings_;
  Logger& log_;
  Poco::Net::Context::Ptr tls_;
  bool ssl_initialized_ = false;
  std::vector<std::unique_ptr<Host>> hosts_;
  std::atomic<std::size_t> next_{0};
  std::atomic<std::uint64_t> bytes_sent_{0};
};

/** Compresses @p data as gzip (RFC 1952). */
std::string gzip(std::string_view data);

}  // namespace sluice::elasticsearch
