// The elasticsearch sink's HTTP client (see es_client.hpp).
#include "es_client.hpp"

#include <zlib.h>

#include <algorithm>
#include <random>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeParser.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timestamp.h>
#include <Poco/URI.h>

namespace sluice::elasticsearch {
namespace {

using Clock = std::chrono::steady_clock;

std::optional<std::chrono::milliseconds> parse_retry_after(const std::string& value) {
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
      value.size() < 9)
    return std::chrono::seconds(std::stoll(value));
  try {
    int tz = 0;
    const Poco::DateTime when = Poco::DateTimeParser::parse(Poco::DateTimeFormat::HTTP_FORMAT, value, tz);
    const auto ms = (when.timestamp().epochMicroseconds() - Poco::Timestamp().epochMicroseconds()) / 1000;
    return std::chrono::milliseconds(std::max<std::int64_t>(ms, 0));
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace

struct Client::Host {
  std::string url;  ///< as configured, for logs
  bool https = false;
  std::string host;
  std::uint16_t port = 0;
  std::string prefix;  ///< path prefix without a trailing slash
  std::mutex mu;
  std::vector<std::unique_ptr<Poco::Net::HTTPClientSession>> idle;
  Clock::time_point down_until{};
  int failures = 0;
};

std::string gzip(std::string_view data) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("zlib: deflateInit2 failed");
  std::string out;
  out.resize(deflateBound(&zs, data.size()));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("zlib: deflate did not finish");
  return out;
}

Client::Client(const ClientSettings& settings, Logger& log) : settings_(settings), log_(log) {
  for (const std::string& url : settings_.hosts) {
    Poco::URI uri(url);
    auto h = std::make_unique<Host>();
    h->url = url;
    h->https = uri.getScheme() == "https";
    h->host = uri.getHost();
    h->port = uri.getPort();
    h->prefix = uri.getPath();
    while (!h->prefix.empty() && h->prefix.back() == '/') h->prefix.pop_back();
    if (h->https && !tls_) {
      Poco::Net::initializeSSL();
      ssl_initialized_ = true;
      const auto mode =
          settings_.tls_verify ? Poco::Net::Context::VERIFY_RELAXED : Poco::Net::Context::VERIFY_NONE;
      tls_ = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, settings_.tls_private_key,
                                    settings_.tls_certificate, settings_.tls_ca_file, mode, 9,
                                    settings_.tls_ca_file.empty(), "ALL:!ADH:!LOW:!EXP:!MD5:@STRENGTH");
      tls_->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    }
    hosts_.push_back(std::move(h));
  }
}

Client::~Client() {
  hosts_.clear();
  tls_ = nullptr;
  if (ssl_initialized_) Poco::Net::uninitializeSSL();
}

std::size_t Client::hosts_up() const {
  const auto now = Clock::now();
  std::size_t n = 0;
  for (const auto& h : hosts_) {
    std::lock_guard lock(h->mu);
    if (h->down_until <= now) ++n;
  }
  return n;
}

Client::Host* Client::pick(std::vector<Host*>& tried) {
  const auto now = Clock::now();
  const std::size_t n = hosts_.size();
  const std::size_t start = next_.fetch_add(1, std::memory_order_relaxed);
  Host* soonest = nullptr;
  Clock::time_point soonest_at = Clock::time_point::max();
  for (std::size_t i = 0; i < n; ++i) {
    Host* h = hosts_[(start + i) % n].get();
    if (std::find(tried.begin(), tried.end(), h) != tried.end()) continue;
    std::lock_guard lock(h->mu);
    if (h->down_until <= now) return h;
    if (h->down_until < soonest_at) {
      soonest_at = h->down_until;
      soonest = h;
    }
  }
  // Every host is down: the caller's first try goes to the one due soonest, no further.
  return tried.empty() ? soonest : nullptr;
}

std::unique_ptr<Poco::Net::HTTPClientSession> Client::take(Host& host, bool& reused) {
  {
    std::lock_guard lock(host.mu);
    if (!host.idle.empty()) {
      auto s = std::move(host.idle.back());
      host.idle.pop_back();
      reused = true;
      return s;
    }
  }
  reused = false;
  std::unique_ptr<Poco::Net::HTTPClientSession> s;
  if (host.https)
    s = std::make_unique<Poco::Net::HTTPSClientSession>(host.host, host.port, tls_);
  else
    s = std::make_unique<Poco::Net::HTTPClientSession>(host.host, host.port);
  const Poco::Timespan t(static_cast<Poco::Timespan::TimeDiff>(settings_.timeout.count()) * 1000);
  s->setTimeout(t, t, t);
  s->setKeepAlive(true);
  s->setKeepAliveTimeout(Poco::Timespan(30, 0));
  return s;
}

void Client::give_back(Host& host, std::unique_ptr<Poco::Net::HTTPClientSession> session) {
  std::lock_guard lock(host.mu);
  if (host.idle.size() < 64) host.idle.push_back(std::move(session));
}

void Client::mark_down(Host& host, const std::string& why) {
  std::chrono::milliseconds wait;
  {
    std::lock_guard lock(host.mu);
    host.idle.clear();
    ++host.failures;
    auto cap = settings_.host_down_min;
    for (int i = 1; i < host.failures && cap < settings_.host_down_max; ++i) cap *= 2;
    wait = std::min(cap, settings_.host_down_max);
    host.down_until = Clock::now() + wait;
  }
  if (hosts_.size() > 1) log_.warn("host ", host.url, " is down for ", wait.count(), " ms: ", why);
}

void Client::mark_up(Host& host) {
  bool was_down = false;
  {
    std::lock_guard lock(host.mu);
    was_down = host.failures > 0;
    host.failures = 0;
    host.down_until = {};
  }
  if (was_down && hosts_.size() > 1) log_.info("host ", host.url, " answers again");
}

bool Client::exchange(Host& host, Poco::Net::HTTPClientSession& session, const std::string& method,
                      const std::string& target, std::string_view body, const std::string& content_type,
                      HttpResult& r, bool& got_bytes) {
  got_bytes = false;
  try {
    Poco::Net::HTTPRequest req(method, target, Poco::Net::HTTPMessage::HTTP_1_1);
    req.setKeepAlive(true);
    if (!settings_.authorization.empty()) req.set("Authorization", settings_.authorization);
    req.set("Accept", "application/json");
    std::string_view payload = body;
    std::string compressed;
    if (!body.empty() || method == "POST" || method == "PUT") {
      req.setContentType(content_type);
      if (settings_.gzip && !body.empty()) {
        compressed = gzip(body);
        payload = compressed;
        req.set("Content-Encoding", "gzip");
      }
      req.setContentLength(static_cast<std::streamsize>(payload.size()));
    }
    // Poco buffers the header in the body stream, and writes a body given to that stream in 4 KiB
    // pieces: a 5 MB bulk took 1,300 send() calls. The header goes first (flush), then the body
    // straight to the socket, in as few calls as the kernel takes. TCP_NODELAY: the body's last
    // partial segment must not wait for the server's delayed ACK of the one before.
    std::ostream& os = session.sendRequest(req);
    session.socket().setNoDelay(true);
    os.flush();
    if (!os) throw Poco::Net::NetException("sending the request failed");
    for (std::size_t sent = 0; sent < payload.size();) {
      const int n = session.socket().sendBytes(
          payload.data() + sent, static_cast<int>(std::min<std::size_t>(payload.size() - sent, 1 << 30)));
      if (n <= 0) throw Poco::Net::NetException("sending the request failed");
      sent += static_cast<std::size_t>(n);
    }
    bytes_sent_.fetch_add(payload.size(), std::memory_order_relaxed);
    Poco::Net::HTTPResponse res;
    std::istream& is = session.receiveResponse(res);
    got_bytes = true;
    r.status = static_cast<int>(res.getStatus());
    r.body.clear();
    Poco::StreamCopier::copyToString(is, r.body);
    const bool bodiless = method == "HEAD" || r.status == 204 || r.status == 304 || r.status / 100 == 1;
    if (!bodiless && res.hasContentLength() &&
        static_cast<std::int64_t>(r.body.size()) != res.getContentLength64()) {
      r.error = "the answer was cut short (" + std::to_string(r.body.size()) + " of " +
                std::to_string(res.getContentLength64()) + " bytes)";
      return false;
    }
    if (is.bad()) {
      r.error = "reading the answer failed";
      return false;
    }
    r.retry_after = parse_retry_after(res.get("Retry-After", ""));
    r.answered = true;
    r.host = host.url;
    return true;
  } catch (const Poco::Exception& e) {
    r.error = safe_utf8(e.displayText());
  } catch (const std::exception& e) {
    r.error = safe_utf8(e.what());
  }
  return false;
}

HttpResult Client::request(const std::string& method, const std::string& path_and_query,
                           std::string_view body, const std::string& content_type) {
  HttpResult r;
  std::vector<Host*> tried;
  while (Host* host = pick(tried)) {
    tried.push_back(host);
    const std::string target = host->prefix + path_and_query;
    bool reused = false;
    auto session = take(*host, reused);
    bool got_bytes = false;
    r = HttpResult{};
    r.host = host->url;
    bool ok = exchange(*host, *session, method, target, body, content_type, r, got_bytes);
    if (!ok && reused && !got_bytes) {
      // A keep-alive connection the server had closed (and likely the other idle ones): once
      // more on a new connection.
      {
        std::lock_guard lock(host->mu);
        host->idle.clear();
      }
      session = take(*host, reused);
      r = HttpResult{};
      r.host = host->url;
      ok = exchange(*host, *session, method, target, body, content_type, r, got_bytes);
    }
    if (ok) {
      mark_up(*host);
      give_back(*host, std::move(session));
      return r;
    }
    r.error = host->url + ": " + r.error;
    mark_down(*host, r.error);
  }
  return r;
}

}  // namespace sluice::elasticsearch
