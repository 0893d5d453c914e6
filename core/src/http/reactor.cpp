// Plain HTTP/1.1 on a few epoll loops. Under load a loop finds many connections
// ready at once and serves them without a thread switch per request; answers a
// handler defers are written by the thread that completes them (see
// HttpDeferrable), so a request waiting for Kafka costs no thread at all.
#include "http/reactor.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Exception.h>
#include <Poco/MemoryStream.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Timestamp.h>
#include <nlohmann/json.hpp>

#include "http/http1_parser.hpp"
#include "sluice/event.hpp"

namespace sluice::core {
namespace {

using Status = Poco::Net::HTTPResponse::HTTPStatus;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Limits of a request's head (http1::Limits' defaults: a 64 KiB head, like Envoy's 60 KiB).
const http1::Limits kLimits{};

std::string reason(int status) {
  return Poco::Net::HTTPResponse::getReasonForStatus(static_cast<Status>(status));
}

/** A complete error answer that closes the connection: `{"error": message}`. */
std::string error_answer(int status, const std::string& message, const std::string& extra_headers = "") {
  const std::string body = nlohmann::json{{"error", safe_utf8(message)}}.dump();
  return "HTTP/1.1 " + std::to_string(status) + " " + reason(status) +
         "\r\nServer: sluice\r\nContent-Type: application/json\r\n" + extra_headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

/** The head of an answer: status line, the given headers, Date, Server, length, connection. */
void write_head(std::string& out, const std::string& version, int status, const std::string& headers,
                const std::string& date, std::size_t length, bool keep_alive) {
  out += version;
  out += ' ';
  out += std::to_string(status);
  out += ' ';
  out += reason(status);
  out += "\r\n";
  out += headers;
  out += "Date: ";
  out += date;
  out += "\r\nServer: sluice\r\nContent-Length: ";
  out += std::to_string(length);
  out += keep_alive ? "\r\nConnection: Keep-Alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
}

/**
 * "Name: value\r\n" lines of a response's headers, without the ones write_head() sets (and
 * without Content-Type for a deferred answer, whose send() gives its own).
 */
std::string header_lines(const Poco::Net::HTTPResponse& res, bool content_type = true) {
  std::string out;
  for (const auto& [name, value] : res) {
    if (iequals(name, "Content-Length") || iequals(name, "Connection") ||
        iequals(name, "Transfer-Encoding") || iequals(name, "Date") || iequals(name, "Server") ||
        (!content_type && iequals(name, "Content-Type")))
      continue;
    out.append(name).append(": ").append(value).append("\r\n");
  }
  return out;
}

class Loop;

/**
 * The writing side of a connection, shared with the answers deferred on it. Its mutex
 * orders an answer's write against the connection's end: once `closed`, nothing touches
 * the descriptor (which may already belong to another connection).
 */
struct Wire {
  Wire(int socket_fd, Loop* owner) : fd(socket_fd), loop(owner) {}
  const int fd;
  Loop* const loop;
  void* conn = nullptr;  ///< the loop's connection; touched by the loop only
  std::mutex mu;
  bool closed = false;        ///< the loop closed the connection
  bool loop_waiting = false;  ///< the loop wants to hear when the pending answer is out
  bool close_after = false;   ///< the answer said `Connection: close`
  std::string leftover;       ///< what the answering thread could not write without blocking
};

void post(Loop* loop, const std::shared_ptr<Wire>& wire);

/** A deferred answer: written by whichever thread sends it, on the connection's descriptor. */
class Answer final : public HttpLaterAnswer {
 public:
  Answer(std::shared_ptr<Wire> wire, std::string version, std::string headers, std::string date,
         bool keep_alive, bool head, std::chrono::steady_clock::time_point deadline,
         std::function<void(HttpLaterAnswer&)> on_deadline)
      : wire_(std::move(wire)),
        version_(std::move(version)),
        headers_(std::move(headers)),
        date_(std::move(date)),
        keep_alive_(keep_alive),
        head_(head),
        deadline_ms_(
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline.time_since_epoch()).count()),
        on_deadline_(std::move(on_deadline)) {}

  bool send(int status, const std::string& content_type, const std::string& body,
            const std::vector<std::pair<std::string, std::string>>& headers) override {
    std::string extra = headers_;
    for (const auto& [name, value] : headers) extra.append(name).append(": ").append(value).append("\r\n");
    if (!content_type.empty()) extra.append("Content-Type: ").append(content_type).append("\r\n");
    std::string out;
    out.reserve(128 + extra.size() + body.size());
    write_head(out, version_, status, extra, date_, body.size(), keep_alive_);
    if (!head_) out += body;

    std::function<void(HttpLaterAnswer&)> drop;  // destroyed outside the lock
    std::lock_guard lock(wire_->mu);
    if (answered_) return false;
    answered_ = true;
    drop = std::move(on_deadline_);
    if (wire_->closed) return false;
    if (!keep_alive_) wire_->close_after = true;
    std::size_t sent = 0;
    const ssize_t n = ::send(wire_->fd, out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent = static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      wire_->close_after = true;  // the connection is broken
      sent = out.size();
    }
    if (sent < out.size()) wire_->leftover.append(out, sent, std::string::npos);
    if (sent < out.size() || wire_->loop_waiting || wire_->close_after) post(wire_->loop, wire_);
    return true;
  }

  /** Called with the wire's mutex held. */
  bool answered_locked() const { return answered_; }
  bool keep_alive() const { return keep_alive_; }
  std::int64_t deadline_ms() const { return deadline_ms_; }

  /** On the loop's thread, once the deadline passed. */
  void fire_deadline() {
    std::function<void(HttpLaterAnswer&)> f;
    {
      std::lock_guard lock(wire_->mu);
      if (answered_ || fired_) return;
      fired_ = true;
      f = on_deadline_;
    }
    if (f) f(*this);
  }
  bool fired() const { return fired_; }

 private:
  std::shared_ptr<Wire> wire_;
  const std::string version_;
  const std::string headers_;  ///< "Name: value\r\n" lines set before defer()
  const std::string date_;
  const bool keep_alive_;
  const bool head_;
  const std::int64_t deadline_ms_;
  std::function<void(HttpLaterAnswer&)> on_deadline_;  ///< guarded by the wire's mutex
  bool answered_ = false;                              ///< guarded by the wire's mutex
  bool fired_ = false;                                 ///< the loop's thread only
};

/** The answer a handler builds; written by the loop after the handler returns, or deferred. */
class Response final : public Poco::Net::HTTPServerResponse, public HttpDeferrable {
 public:
  Response(std::shared_ptr<Wire> wire, const std::string& date, bool head)
      : wire_(std::move(wire)), date_(date), head_(head) {}

  void sendContinue() override {}  // the loop sent `100 Continue` before reading the body
  std::ostream& send() override {
    sent_ = true;
    if (!stream_) stream_.emplace();
    return *stream_;
  }
  void sendFile(const std::string& path, const std::string& media_type) override {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Poco::FileNotFoundException(path);
    std::ostringstream s;
    s << in.rdbuf();
    body_ = std::move(s).str();
    setContentType(media_type);
    sent_ = true;
  }
  void sendBuffer(const void* buffer, std::size_t length) override {
    body_.assign(static_cast<const char*>(buffer), length);
    sent_ = true;
  }
  void redirect(const std::string& uri, HTTPStatus status) override {
    setStatusAndReason(status);
    set("Location", uri);
    sent_ = true;
  }
  void requireAuthentication(const std::string& realm) override {
    setStatusAndReason(HTTP_UNAUTHORIZED);
    set("WWW-Authenticate", "Basic realm=\"" + realm + "\"");
    sent_ = true;
  }
  bool sent() const override { return sent_; }

  std::shared_ptr<HttpLaterAnswer> defer(std::chrono::steady_clock::time_point deadline,
                                         std::function<void(HttpLaterAnswer&)> on_deadline) override {
    if (answer_ || sent_) return nullptr;
    answer_ = std::make_shared<Answer>(wire_, getVersion(), header_lines(*this, false), date_, getKeepAlive(),
                                       head_, deadline, std::move(on_deadline));
    return answer_;
  }
  const std::shared_ptr<Answer>& deferred() const { return answer_; }

  /** The whole answer, for a handler that returned without deferring. */
  void serialize(std::string& out, bool keep_alive) {
    if (stream_) body_ += std::move(*stream_).str();
    // A HEAD answer keeps the length the handler announced, without the body.
    const std::size_t length = head_ && getContentLength64() != UNKNOWN_CONTENT_LENGTH
                                   ? static_cast<std::size_t>(getContentLength64())
                                   : body_.size();
    write_head(out, getVersion(), static_cast<int>(getStatus()), header_lines(*this), date_, length,
               keep_alive);
    if (!head_) out += body_;
  }

 private:
  std::shared_ptr<Wire> wire_;
  const std::string& date_;
  const bool head_;
  bool sent_ = false;
  std::optional<std::ostringstream> stream_;
  std::string body_;
  std::shared_ptr<Answer> answer_;
};

/** A parsed request, its body read whole. */
class Request final : public Poco::Net::HTTPServerRequest {
 public:
  Request(Response& response, const Poco::Net::SocketAddress& client, const Poco::Net::SocketAddress& server,
          const Poco::Net::HTTPServerParams& params, std::string_view body)
      : response_(response),
        client_(client),
        server_(server),
        params_(params),
        body_(body.data(), body.size()) {}

  std::istream& stream() override { return body_; }
  const Poco::Net::SocketAddress& clientAddress() const override { return client_; }
  const Poco::Net::SocketAddress& serverAddress() const override { return server_; }
  const Poco::Net::HTTPServerParams& serverParams() const override { return params_; }
  Poco::Net::HTTPServerResponse& response() const override { return response_; }
  bool secure() const override { return false; }

 private:
  Response& response_;
  const Poco::Net::SocketAddress& client_;
  const Poco::Net::SocketAddress& server_;
  const Poco::Net::HTTPServerParams& params_;
  Poco::MemoryInputStream body_;
};

enum class Timer : std::uint8_t { None, Idle, Head, Body, Write, Answer };

struct Conn {
  int fd = -1;
  std::shared_ptr<Wire> wire;
  Poco::Net::SocketAddress peer;
  std::string in;
  std::size_t in_off = 0;                  ///< bytes of `in` already served
  std::size_t scanned = 0;                 ///< where the search for the end of the head goes on
  std::optional<http1::RequestHead> head;  ///< the request being read, once its head is complete
  std::size_t body_start = 0;
  std::optional<http1::ChunkedDecoder> chunks;  ///< a chunked body being decoded
  std::size_t chunks_fed = 0;                   ///< bytes after body_start the decoder has taken
  std::string decoded;                          ///< the chunked body so far
  std::size_t held = 0;         ///< bytes of `in` and `decoded` counted in the server's buffer budget
  std::int64_t idle_since = 0;  ///< when it last became idle (the oldest idle one goes first)
  std::string out;
  std::size_t out_off = 0;
  std::shared_ptr<Answer> pending;
  int served = 0;
  bool close_after = false;
  bool peer_closed = false;
  bool reading = true;   ///< EPOLLIN armed
  bool writing = false;  ///< EPOLLOUT armed
  bool dead = false;
  Timer timer = Timer::None;
  std::int64_t deadline = 0;
};

}  // namespace

struct HttpReactor::Impl {
  int listen_fd = -1;
  HttpServerOptions options;
  HttpDispatch dispatch;
  Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
  Poco::Net::SocketAddress server_address;
  std::atomic<std::size_t> open{0};
  std::atomic<std::size_t> buffered{0};   ///< request bytes held by every connection (max_buffered)
  std::atomic<std::size_t> next_loop{0};  ///< round-robin of accepted connections
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<Loop>> loops;
  std::vector<std::thread> threads;
};

namespace {

class Loop {
 public:
  Loop(HttpReactor::Impl& r, std::size_t index) : r_(r), index_(index) {
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ep_ < 0 || wake_ < 0) throw std::runtime_error(std::string("HTTP server: ") + std::strerror(errno));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &wake_;
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, wake_, &ev);
    // Every loop waits on the listening socket; EPOLLEXCLUSIVE wakes one of them per connection.
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.ptr = &r_.listen_fd;
    if (::epoll_ctl(ep_, EPOLL_CTL_ADD, r_.listen_fd, &ev) != 0)
      throw std::runtime_error(std::string("HTTP server: epoll: ") + std::strerror(errno));
    max_buffer_ = kLimits.max_head + r_.options.max_body + 65536;
  }

  ~Loop() {
    for (const auto& a : adopted_) {
      ::close(a.fd);
      r_.open.fetch_sub(1);
    }
    for (auto& [fd, c] : conns_) close_now(*c);
    conns_.clear();
    graveyard_.clear();
    ::close(wake_);
    ::close(ep_);
  }

  void wake() {
    const std::uint64_t one = 1;
    (void)!::write(wake_, &one, sizeof one);
  }

  /** An answer on @p wire needs the loop (leftover bytes, the connection's end, a waiting request). */
  void post(const std::shared_ptr<Wire>& wire) {
    bool first;
    {
      std::lock_guard lock(post_mu_);
      first = posted_.empty() && adopted_.empty();
      posted_.push_back(wire);
    }
    if (first) wake();
  }

  void run() {
    std::vector<epoll_event> events(256);
    std::int64_t next_scan = now_ms() + 100;
    while (!r_.stop.load(std::memory_order_acquire)) {
      const int n = ::epoll_wait(ep_, events.data(), static_cast<int>(events.size()), 100);
      now_ = now_ms();
      refresh_date();
      for (int i = 0; i < n; ++i) {
        void* p = events[i].data.ptr;
        if (p == &r_.listen_fd) {
          accept_all();
        } else if (p == &wake_) {
          std::uint64_t v;
          (void)!::read(wake_, &v, sizeof v);
          serve_posted();
        } else {
          Conn& c = *static_cast<Conn*>(p);
          if (c.dead) continue;
          if (events[i].events & (EPOLLHUP | EPOLLERR)) {
            close_conn(c);  // reset, or shut both ways: nothing can be answered any more
            continue;
          }
          if (events[i].events & EPOLLIN) read_some(c);
          if (!c.dead) process(c);
        }
      }
      if (now_ >= next_scan) {
        scan_timers();
        next_scan = now_ + 100;
      }
      graveyard_.clear();
    }
  }

 private:
  void refresh_date() {
    const std::int64_t second = now_ / 1000;
    if (second == date_second_) return;
    date_second_ = second;
    date_ = Poco::DateTimeFormatter::format(Poco::Timestamp(), Poco::DateTimeFormat::HTTP_FORMAT);
  }

  void accept_all() {
    for (;;) {
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      const int fd =
          ::accept4(r_.listen_fd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN: another loop took it, or none left
      if (!admit()) {
        // At the limit: an idle connection (a fresh one that sent nothing, or a keep-alive one
        // between requests) makes room, as nginx does, so idle sockets cannot lock clients out.
        // This loop's own first; else the next loop tries for it.
        if (!evict_idle() || !admit()) {
          if (r_.loops.size() > 1) {
            Loop* other = r_.loops[(index_ + 1) % r_.loops.size()].get();
            other->adopt(fd, addr, len, /*needs_room=*/true);
          } else {
            refuse(fd);
          }
          continue;
        }
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      // Connections go round the loops: the loop woken for a burst of them (a client opening
      // its pool) must not end up serving them all.
      Loop* target = r_.loops[r_.next_loop.fetch_add(1) % r_.loops.size()].get();
      if (target != this) {
        target->adopt(fd, addr, len);
        continue;
      }
      add_conn(fd, addr, len);
    }
  }

  /**
   * A connection another loop accepted for this one; with @p needs_room it is not counted
   * yet, and is served only if an idle connection of this loop makes room for it.
   */
  void adopt(int fd, const sockaddr_storage& addr, socklen_t len, bool needs_room = false) {
    bool first;
    {
      std::lock_guard lock(post_mu_);
      first = posted_.empty() && adopted_.empty();
      adopted_.push_back({fd, addr, len, needs_room});
    }
    if (first) wake();
  }

  /** Counts one more open connection; false at the limit. */
  bool admit() {
    const std::size_t limit = std::max<std::size_t>(1, r_.options.max_connections);
    if (r_.open.fetch_add(1) < limit) return true;
    r_.open.fetch_sub(1);
    return false;
  }

  /**
   * Closes this loop's longest-idle connection: nothing read, owed or being written, and no
   * bytes waiting in its socket (a request this loop has not read yet). False if none.
   */
  bool evict_idle() {
    std::vector<Conn*> idle;
    for (auto& [fd, c] : conns_) {
      if (!c->dead && c->timer == Timer::Idle && !c->head && !c->pending && c->in_off == c->in.size() &&
          c->out_off == c->out.size())
        idle.push_back(c.get());
    }
    std::sort(idle.begin(), idle.end(),
              [](const Conn* a, const Conn* b) { return a->idle_since < b->idle_since; });
    for (Conn* c : idle) {
      char byte;
      if (::recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0) continue;
      close_conn(*c);
      return true;
    }
    return false;
  }

  /** Keeps the server-wide count of buffered request bytes up to date with @p c's. */
  void account(Conn& c) {
    // Capacity, not size: what the allocator holds is what the budget is for.
    const std::size_t now = c.dead ? 0 : c.in.capacity() + c.decoded.capacity();
    if (now > c.held)
      r_.buffered.fetch_add(now - c.held, std::memory_order_relaxed);
    else if (now < c.held)
      r_.buffered.fetch_sub(c.held - now, std::memory_order_relaxed);
    c.held = now;
  }

  /** Empties @p s, giving a large buffer back: an idle connection keeps only a small one. */
  static void release(std::string& s) {
    if (s.capacity() > 65536)
      std::string().swap(s);
    else
      s.clear();
  }

  bool over_budget() const {
    return r_.options.max_buffered > 0 &&
           r_.buffered.load(std::memory_order_relaxed) > r_.options.max_buffered;
  }

  void add_conn(int fd, const sockaddr_storage& addr, socklen_t len) {
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    c->wire = std::make_shared<Wire>(fd, this);
    c->wire->conn = c.get();
    try {
      c->peer = Poco::Net::SocketAddress(reinterpret_cast<const sockaddr*>(&addr), len);
    } catch (const Poco::Exception&) {
    }
    set_timer(*c, Timer::Idle, r_.options.read_timeout.count());
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = c.get();
    if (::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      ::close(fd);
      r_.open.fetch_sub(1);
      return;
    }
    conns_.emplace(fd, std::move(c));
  }

  /** Beyond the connection limit: 503 at once, without reading the request. */
  static void refuse(int fd) {
    static const std::string reply =
        error_answer(503, "too many connections, retry later", "Retry-After: 1\r\n");
    char sink[4096];
    // The request bytes already here are read away first, so that closing does not reset the
    // connection and discard the answer on the client's side.
    while (::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
    }
    (void)::send(fd, reply.data(), reply.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    ::shutdown(fd, SHUT_WR);
    ::close(fd);
  }

  void set_timer(Conn& c, Timer t, std::int64_t ms) {
    if (t == Timer::Idle && c.timer != Timer::Idle) c.idle_since = now_;
    c.timer = t;
    c.deadline = t == Timer::None ? 0 : now_ + ms;
  }

  void read_some(Conn& c) {
    if (!c.reading) return;
    for (;;) {
      if (c.in.size() - c.in_off >= max_buffer_) {
        arm(c, false, c.writing);  // enough buffered: read on once it is served
        return;
      }
      if (c.in_off > 0 && c.in_off == c.in.size()) {
        c.in.clear();
        c.scanned = c.in_off = 0;
      }
      const ssize_t n = ::recv(c.fd, buffer_.data(), buffer_.size(), 0);
      if (n > 0) {
        c.in.append(buffer_.data(), static_cast<std::size_t>(n));
        account(c);
        if (over_budget()) {
          // Request bytes held for all clients are bounded (like Envoy's overload manager):
          // the connection that goes over is answered and closed; the others go on.
          fail(c, 503, "server busy: too many request bytes buffered, retry later", "Retry-After: 1\r\n");
          return;
        }
        if (static_cast<std::size_t>(n) < buffer_.size()) return;
        continue;
      }
      if (n == 0) {
        c.peer_closed = true;
        arm(c, false, c.writing);
        return;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) close_conn(c);
      return;
    }
  }

  void arm(Conn& c, bool reading, bool writing) {
    if (c.reading == reading && c.writing == writing) return;
    c.reading = reading;
    c.writing = writing;
    epoll_event ev{};
    ev.events = (reading ? EPOLLIN : 0u) | (writing ? EPOLLOUT : 0u);
    ev.data.ptr = &c;
    ::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  /** Writes what is queued; false while some remains (EPOLLOUT is then armed). */
  bool flush(Conn& c) {
    while (c.out_off < c.out.size()) {
      const ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_off += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        arm(c, c.reading, true);
        set_timer(c, Timer::Write, r_.options.read_timeout.count());
        return false;
      }
      close_conn(c);
      return false;
    }
    c.out.clear();
    c.out_off = 0;
    if (c.writing) arm(c, c.reading, false);
    return true;
  }

  /** Takes the pending answer's outcome once it was sent; false while it is still to come. */
  bool settle(Conn& c) {
    std::lock_guard lock(c.wire->mu);
    if (!c.pending->answered_locked()) {
      // Only a pipelined request or the client's end needs the loop woken for the answer;
      // otherwise the next request's bytes bring the loop back.
      c.wire->loop_waiting = c.in.size() > c.in_off || c.peer_closed;
      return false;
    }
    c.wire->loop_waiting = false;
    c.out = std::move(c.wire->leftover);
    c.wire->leftover.clear();
    c.out_off = 0;
    c.close_after = c.close_after || c.wire->close_after;
    c.pending.reset();
    set_timer(c, Timer::None, 0);
    return true;
  }

  void serve_posted() {
    std::vector<std::shared_ptr<Wire>> wires;
    std::vector<Adopted> adopted;
    {
      std::lock_guard lock(post_mu_);
      wires.swap(posted_);
      adopted.swap(adopted_);
    }
    for (const auto& a : adopted) {
      if (a.needs_room && !(evict_idle() && admit())) {
        refuse(a.fd);
        continue;
      }
      add_conn(a.fd, a.addr, a.len);
    }
    for (const auto& w : wires) {
      if (w->closed) continue;  // only this thread closes: no lock needed to read it
      Conn& c = *static_cast<Conn*>(w->conn);
      if (!c.dead) process(c);
    }
  }

  void scan_timers() {
    std::vector<Conn*> due;
    for (auto& [fd, c] : conns_)
      if (!c->dead && c->timer != Timer::None && now_ >= c->deadline) due.push_back(c.get());
    for (Conn* c : due) {
      if (c->dead) continue;
      switch (c->timer) {
        case Timer::Idle:
        case Timer::Write:
          close_conn(*c);
          break;
        case Timer::Head:
          fail(*c, 408, "request headers too slow");
          break;
        case Timer::Body:
          fail(*c, 408, "request body not received in time");
          break;
        case Timer::Answer:
          set_timer(*c, Timer::None, 0);
          if (c->pending) c->pending->fire_deadline();
          process(*c);
          break;
        case Timer::None:
          break;
      }
    }
  }

  /** Answers with an error and closes once it is written. */
  void fail(Conn& c, int status, const std::string& message, const std::string& extra_headers = "") {
    if (c.pending) {  // an answer is owed first: just end the connection
      close_conn(c);
      return;
    }
    c.out += error_answer(status, message, extra_headers);
    c.close_after = true;
    c.head.reset();
    c.chunks.reset();
    c.in_off = c.in.size();
    set_timer(c, Timer::None, 0);
    process(c);
  }

  void process(Conn& c) {
    while (!c.dead) {
      if (c.pending && !settle(c)) return;
      if (!flush(c)) return;
      if (c.close_after) {
        close_conn(c);
        return;
      }
      if (!c.reading && !c.peer_closed) arm(c, true, c.writing);
      if (!c.head) {
        if (c.in_off == c.in.size()) {
          if (c.peer_closed) {
            close_conn(c);
            return;
          }
          if (c.timer != Timer::Idle)
            set_timer(
                c, Timer::Idle,
                c.served == 0 ? r_.options.read_timeout.count() : r_.options.keep_alive_timeout.count());
          return;
        }
        const std::string_view buf(c.in.data() + c.in_off, c.in.size() - c.in_off);
        // Blank lines before a request are ignored (RFC 9112 2.2).
        if (buf.front() == '\r' || buf.front() == '\n') {
          ++c.in_off;
          c.scanned = 0;
          continue;
        }
        const http1::HeadEnd end = http1::find_head_end(buf, c.scanned);
        if (end.offset == std::string_view::npos) {
          c.scanned = buf.size();
          if (buf.size() > kLimits.max_head)
            return fail(c, 431,
                        "request header too large: over " + std::to_string(kLimits.max_head) + " bytes");
          // A client that half-closed mid-head still reads: tell it why nothing is served.
          if (c.peer_closed) return fail(c, 400, "malformed request: the connection ended inside the head");
          if (c.timer != Timer::Head) set_timer(c, Timer::Head, r_.options.header_timeout.count());
          return;
        }
        http1::RequestHead h;
        std::string error;
        if (const int status = http1::parse_head(buf.substr(0, end.offset), h, error, kLimits))
          return fail(c, status,
                      status == 431 ? "request header too large: " + error : "malformed request: " + error);
        c.head = std::move(h);
        c.body_start = c.in_off + end.offset + end.length;
        c.scanned = 0;
        if (c.head->chunked) {
          c.chunks.emplace(r_.options.max_body, kLimits);
          c.chunks_fed = 0;
          c.decoded.clear();
        }
        const bool has_body = c.head->chunked || c.head->content_length > 0;
        if (has_body && c.head->expect_continue && c.in.size() == c.body_start &&
            (c.head->chunked || static_cast<std::size_t>(c.head->content_length) <= r_.options.max_body)) {
          c.out += "HTTP/1.1 100 Continue\r\n\r\n";
          if (!flush(c)) return;
        }
        set_timer(c, has_body ? Timer::Body : Timer::None, r_.options.body_timeout.count());
      }
      // The body, whole; one over max_body is answered 413 here (chunked) or left unread for
      // the handler, which sees its Content-Length (and the connection closes after).
      const http1::RequestHead& h = *c.head;
      std::string_view body;
      std::size_t consumed = 0;
      bool truncated = false;
      if (h.chunked) {
        // Fed only the bytes that came since the last call: nothing is decoded twice.
        const std::string_view fresh(c.in.data() + c.body_start + c.chunks_fed,
                                     c.in.size() - c.body_start - c.chunks_fed);
        std::size_t used = 0;
        const auto state = c.chunks->feed(fresh, c.decoded, used);
        c.chunks_fed += used;
        account(c);
        switch (state) {
          case http1::ChunkedDecoder::State::NeedMore:
            if (c.peer_closed) return fail(c, 400, "malformed request: the chunked body was cut short");
            return;
          case http1::ChunkedDecoder::State::Malformed:
            return fail(c, 400, "malformed chunked body: " + c.chunks->error());
          case http1::ChunkedDecoder::State::TooLarge:
            return fail(c, 413,
                        "request body over the limit of " + std::to_string(r_.options.max_body) + " bytes");
          case http1::ChunkedDecoder::State::Done:
            break;
        }
        body = c.decoded;
        consumed = c.chunks_fed;
      } else if (h.content_length > 0) {
        const auto len = static_cast<std::size_t>(h.content_length);
        const std::string_view rest(c.in.data() + c.body_start, c.in.size() - c.body_start);
        if (len > r_.options.max_body) {
          truncated = true;  // not read at all: the handler sees the length and answers 413
        } else {
          if (rest.size() < len) {
            if (c.peer_closed) return fail(c, 400, "malformed request: body shorter than its Content-Length");
            return;
          }
          body = rest.substr(0, len);
          consumed = len;
        }
      }
      const std::size_t next = truncated ? c.in.size() : c.body_start + consumed;
      serve(c, body, truncated);
      c.head.reset();
      c.chunks.reset();
      release(c.decoded);
      c.in_off = next;
      if (c.in_off == c.in.size()) {
        release(c.in);
        c.in_off = 0;
      }
      account(c);
    }
  }

  void serve(Conn& c, std::string_view body, bool truncated) {
    const http1::RequestHead& h = *c.head;
    ++c.served;
    const int max_requests = static_cast<int>(r_.options.max_keep_alive_requests);
    const bool may_keep = !truncated && h.keep_alive && (max_requests <= 0 || c.served < max_requests);
    Response res(c.wire, date_, h.method == "HEAD");
    Request req(res, c.peer, r_.server_address, *r_.params, body);
    req.setMethod(h.method);
    req.setURI(h.path);
    req.setVersion(h.version);
    for (const auto& [name, value] : h.fields) req.add(name, value);
    res.setVersion(h.version);
    if (!may_keep)
      res.setKeepAlive(false);
    else if (h.version == "HTTP/1.0")
      res.setKeepAlive(true);
    try {
      r_.dispatch(req, res);
    } catch (...) {  // the dispatch answers handler exceptions itself; this is a last resort
      if (!res.sent() && !res.deferred()) {
        static const std::string fallback = R"({"error":"internal error"})";
        res.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_INTERNAL_SERVER_ERROR);
        res.setContentType("application/json");
        res.sendBuffer(fallback.data(), fallback.size());
      }
    }
    if (const auto& answer = res.deferred()) {
      c.pending = answer;
      set_timer(c, Timer::Answer, std::max<std::int64_t>(0, answer->deadline_ms() - now_ms()));
      return;
    }
    const bool keep = may_keep && res.getKeepAlive();
    res.serialize(c.out, keep);
    if (!keep) c.close_after = true;
    set_timer(c, Timer::None, 0);
  }

  void close_conn(Conn& c) {
    if (c.dead) return;
    close_now(c);
    auto it = conns_.find(c.fd);
    if (it != conns_.end()) {
      graveyard_.push_back(std::move(it->second));
      conns_.erase(it);
    }
  }

  void close_now(Conn& c) {
    {
      std::lock_guard lock(c.wire->mu);
      c.wire->closed = true;
    }
    c.dead = true;
    account(c);
    ::epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    r_.open.fetch_sub(1);
  }

  HttpReactor::Impl& r_;
  const std::size_t index_;  ///< in r_.loops
  int ep_ = -1;
  int wake_ = -1;
  std::size_t max_buffer_ = 0;
  std::vector<char> buffer_ = std::vector<char>(65536);  ///< what recv() reads into
  std::int64_t now_ = now_ms();
  std::int64_t date_second_ = -1;
  std::string date_;
  std::unordered_map<int, std::unique_ptr<Conn>> conns_;
  std::vector<std::unique_ptr<Conn>> graveyard_;  ///< closed during this round of events
  struct Adopted {
    int fd;
    sockaddr_storage addr;
    socklen_t len;
    bool needs_room;  ///< not counted yet: only if an idle connection makes room
  };
  std::mutex post_mu_;
  std::vector<std::shared_ptr<Wire>> posted_;
  std::vector<Adopted> adopted_;  ///< connections accepted by another loop for this one
};

void post(Loop* loop, const std::shared_ptr<Wire>& wire) {
  loop->post(wire);
}

}  // namespace

HttpReactor::HttpReactor(int listen_fd, const HttpServerOptions& options, HttpDispatch dispatch)
    : impl_(std::make_unique<Impl>()) {
  impl_->listen_fd = listen_fd;
  impl_->options = options;
  impl_->dispatch = std::move(dispatch);
  ::fcntl(listen_fd, F_SETFL, ::fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    impl_->server_address = Poco::Net::SocketAddress(reinterpret_cast<const sockaddr*>(&addr), len);
  auto& p = *impl_->params;
  p.setTimeout(Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(options.read_timeout.count()) * 1000));
  p.setKeepAlive(true);
  p.setKeepAliveTimeout(
      Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(options.keep_alive_timeout.count()) * 1000));
  p.setMaxKeepAliveRequests(static_cast<int>(options.max_keep_alive_requests));
  p.setServerName("sluice");
  const std::size_t n = std::max<std::size_t>(1, options.io_threads);
  for (std::size_t i = 0; i < n; ++i) impl_->loops.push_back(std::make_unique<Loop>(*impl_, i));
}

void HttpReactor::start() {
  for (auto& l : impl_->loops) impl_->threads.emplace_back([loop = l.get()] { loop->run(); });
}

HttpReactor::~HttpReactor() {
  impl_->stop.store(true, std::memory_order_release);
  for (auto& l : impl_->loops) l->wake();
  for (auto& t : impl_->threads) t.join();
  impl_->loops.clear();  // closes every connection: deferred answers still to come write nothing
}

}  // namespace sluice::core
