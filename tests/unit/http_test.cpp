// Shared HTTP servers: routing, path parameters, 404/405, one server per
// address shared by registrations, port 0, stop with the last registration.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>

#include "http/http_servers.hpp"

using sluice::HttpRoute;
using sluice::HttpServerOptions;
using sluice::PathParams;
using sluice::core::HttpServersImpl;

namespace {

struct Reply {
  int status = 0;
  std::string body;
  std::string allow;
};

Reply request(const std::string& address, const std::string& method, const std::string& path) {
  Poco::Net::SocketAddress addr(address);
  Poco::Net::HTTPClientSession session(addr);
  session.setTimeout(Poco::Timespan(5, 0));
  Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  session.sendRequest(req);
  Poco::Net::HTTPResponse res;
  std::istream& in = session.receiveResponse(res);
  Reply r;
  r.status = res.getStatus();
  Poco::StreamCopier::copyToString(in, r.body);
  r.allow = res.get("Allow", "");
  return r;
}

sluice::HttpHandler text(std::string body) {
  return [body](Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& res, const PathParams& params) {
    std::string out = body;
    for (const auto& [k, v] : params) out += " " + k + "=" + v;
    res.setContentType("text/plain");
    res.send() << out;
  };
}

HttpServerOptions local() {
  HttpServerOptions o;
  o.listen = "127.0.0.1:0";
  o.max_threads = 2;
  return o;
}

}  // namespace

TEST(HttpServers, RoutesByMethodAndPathWithParameters) {
  HttpServersImpl http;
  auto reg = http.add(local(), {{"GET", "/health", text("ok")},
                                {"POST", "/purchase/{item}", text("bought")},
                                {"GET", "/static/*", text("file")},
                                {"GET", "/static/index.html", text("index")}});
  const std::string a = reg->bound_address();
  EXPECT_EQ(request(a, "GET", "/health").body, "ok");
  EXPECT_EQ(request(a, "GET", "/health?verbose=1").body, "ok");
  EXPECT_EQ(request(a, "POST", "/purchase/42").body, "bought item=42");
  EXPECT_EQ(request(a, "POST", "/purchase/a%20b").body, "bought item=a b");
  EXPECT_EQ(request(a, "GET", "/static/css/site.css").body, "file *=css/site.css");
  EXPECT_EQ(request(a, "GET", "/static/index.html").body, "index");
  // A parameter that cannot be decoded is the client's error, not the server's.
  for (const char* bad : {"/purchase/%ZZ", "/purchase/%", "/purchase/a%2", "/static/x/%G1"})
    EXPECT_EQ(request(a, bad[1] == 'p' ? "POST" : "GET", bad).status, 400) << bad;
}

TEST(HttpServers, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  HttpServersImpl http;
  auto reg =
      http.add(local(), {{"POST", "/purchase/{item}", text("p")}, {"PUT", "/purchase/{id}/x", text("x")}});
  const std::string a = reg->bound_address();
  auto r = request(a, "GET", "/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("no route for /nope"), std::string::npos);
  r = request(a, "GET", "/purchase/1");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.allow, "POST");
  r = request(a, "GET", "/purchase");
  EXPECT_EQ(r.status, 404);
}

TEST(HttpServers, HandlerExceptionIs500) {
  HttpServersImpl http;
  auto reg = http.add(
      local(),
      {{"GET", "/boom", [](auto&, auto&, const PathParams&) { throw std::runtime_error("it broke"); }}});
  auto r = request(reg->bound_address(), "GET", "/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("it broke"), std::string::npos);
}

TEST(HttpServers, RegistrationsShareOneServerPerAddress) {
  HttpServersImpl http;
  auto first = http.add(local(), {{"GET", "/a", text("A")}});
  const std::string a = first->bound_address();
  EXPECT_NE(a.substr(a.rfind(':') + 1), "0");
  HttpServerOptions same = local();
  same.listen = a;
  auto second = http.add(same, {{"GET", "/b", text("B")}});
  EXPECT_EQ(second->bound_address(), a);
  EXPECT_EQ(request(a, "GET", "/a").body, "A");
  EXPECT_EQ(request(a, "GET", "/b").body, "B");
  // A clashing route is refused and leaves the others in place.
  EXPECT_THROW(http.add(same, {{"GET", "/a", text("again")}}), std::runtime_error);
  EXPECT_EQ(request(a, "GET", "/a").body, "A");
  // Removing one registration removes only its routes: they answer 503 (which clients retry,
  // unlike 404) until a new registration takes their place, as a reload does.
  first.reset();
  EXPECT_EQ(request(a, "GET", "/a").status, 503);
  EXPECT_EQ(request(a, "GET", "/b").body, "B");
  auto third = http.add(same, {{"GET", "/a", text("again")}});
  EXPECT_EQ(request(a, "GET", "/a").body, "again");
  third.reset();
  // The last one stops the server.
  second.reset();
  EXPECT_THROW(request(a, "GET", "/b"), Poco::Exception);
}

TEST(HttpServers, PortZeroGivesDistinctServers) {
  HttpServersImpl http;
  auto one = http.add(local(), {{"GET", "/x", text("one")}});
  auto two = http.add(local(), {{"GET", "/x", text("two")}});
  EXPECT_NE(one->bound_address(), two->bound_address());
  EXPECT_EQ(request(one->bound_address(), "GET", "/x").body, "one");
  EXPECT_EQ(request(two->bound_address(), "GET", "/x").body, "two");
}

TEST(HttpServers, AddressInUseIsAnError) {
  HttpServersImpl http;
  auto one = http.add(local(), {{"GET", "/x", text("one")}});
  HttpServersImpl other;
  HttpServerOptions o = local();
  o.listen = one->bound_address();
  try {
    other.add(o, {{"GET", "/y", text("y")}});
    FAIL() << "bound the same address twice";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(one->bound_address()), std::string::npos) << e.what();
  }
}

namespace {

/** A client that sends a request's header one byte at a time, every @p gap, until told to stop. */
class SlowClient {
 public:
  SlowClient(const std::string& address, std::chrono::milliseconds gap)
      : socket_(Poco::Net::SocketAddress(address)) {
    socket_.setReceiveTimeout(Poco::Timespan(30, 0));
    // The first byte goes before the constructor returns: a connection that has sent nothing
    // is idle, and the server may close it to make room for another.
    socket_.sendBytes("G", 1);
    thread_ = std::thread([this, gap] {
      const std::string header = "ET /health HTTP/1.1\r\nHost: x\r\nX-Filler: " + std::string(200, 'a');
      for (char c : header) {
        std::this_thread::sleep_for(gap);
        if (stop_.load()) return;
        try {
          socket_.sendBytes(&c, 1);
        } catch (const Poco::Exception&) {
          return;  // the server closed the connection
        }
      }
    });
  }
  ~SlowClient() {
    stop_.store(true);
    thread_.join();
  }
  /** What the server answered before closing (empty when it just closed). */
  std::string reply() {
    std::string out;
    char buf[1024];
    try {
      for (int n; (n = socket_.receiveBytes(buf, sizeof buf)) > 0;)
        out.append(buf, static_cast<std::size_t>(n));
    } catch (const Poco::Exception&) {
    }
    return out;
  }

 private:
  Poco::Net::StreamSocket socket_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

TEST(HttpServers, SlowClientsCannotHoldTheServer) {
  HttpServersImpl http;
  HttpServerOptions o = local();
  o.max_threads = 2;  // as many slow clients as threads: the fast one must still be served
  o.header_timeout = std::chrono::milliseconds{1500};
  auto reg = http.add(o, {{"GET", "/health", text("ok")}});
  const std::string a = reg->bound_address();
  SlowClient slow1(a, std::chrono::milliseconds{100});
  SlowClient slow2(a, std::chrono::milliseconds{100});
  std::this_thread::sleep_for(
      std::chrono::milliseconds{300});  // let both take a thread (not a wait for a result)
  const Reply r = request(a, "GET", "/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
  // The slow ones were cut off with 408 once their header deadline passed.
  EXPECT_NE(slow1.reply().find("408"), std::string::npos);
  EXPECT_NE(slow2.reply().find("408"), std::string::npos);
}

TEST(HttpServers, ConnectionsBeyondTheLimitGet503) {
  HttpServersImpl http;
  HttpServerOptions o = local();
  o.max_threads = 4;
  o.max_connections = 1;
  auto reg = http.add(o, {{"GET", "/health", text("ok")}});
  const std::string a = reg->bound_address();
  SlowClient holder(a, std::chrono::milliseconds{200});
  // The holder's connection is registered once a thread runs it; retry until the limit shows.
  Reply r;
  for (int i = 0; i < 100; ++i) {
    r = request(a, "GET", "/health");
    if (r.status == 503) break;
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  EXPECT_EQ(r.status, 503);
}

TEST(HttpServers, OversizeHeaderIs431) {
  HttpServersImpl http;
  auto reg = http.add(local(), {{"GET", "/health", text("ok")}});
  Poco::Net::StreamSocket s(Poco::Net::SocketAddress(reg->bound_address()));
  s.setReceiveTimeout(Poco::Timespan(20, 0));
  const std::string req = "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(10000, 'b') + "\r\n\r\n";
  s.sendBytes(req.data(), static_cast<int>(req.size()));
  std::string reply;
  char buf[1024];
  try {
    for (int n; (n = s.receiveBytes(buf, sizeof buf)) > 0;) reply.append(buf, static_cast<std::size_t>(n));
  } catch (const Poco::Exception&) {
  }
  EXPECT_EQ(reply.rfind("HTTP/1.1 431", 0), 0u) << reply;
}

namespace {

/** Deferred answers a test sends itself, from its own thread, when it chooses. */
struct LaterAnswers {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<std::string, std::shared_ptr<sluice::HttpLaterAnswer>>> waiting;  ///< by arrival
  std::atomic<int> answered{0};
  std::vector<int> answered_before;  ///< per request: answers sent when its handler ran

  sluice::HttpHandler handler(std::chrono::milliseconds deadline = std::chrono::seconds(30)) {
    return [this, deadline](Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& res,
                            const PathParams& params) {
      res.set("X-Before", "set before defer");
      res.setContentType("application/x-before");  // the later answer's own type replaces it
      auto* d = dynamic_cast<sluice::HttpDeferrable*>(&res);
      ASSERT_NE(d, nullptr);
      auto later = d->defer(std::chrono::steady_clock::now() + deadline, [](sluice::HttpLaterAnswer& a) {
        a.send(503, "text/plain", "late", {{"Retry-After", "1"}});
      });
      ASSERT_NE(later, nullptr);
      std::lock_guard lock(mu);
      answered_before.push_back(answered.load());
      waiting.emplace_back(params.at("n"), later);
      cv.notify_all();
    };
  }

  /** Waits for the handler of the @p i-th request (0-based) to have run. */
  std::shared_ptr<sluice::HttpLaterAnswer> wait_for(std::size_t i, std::string* n = nullptr) {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, std::chrono::seconds(20), [&] { return waiting.size() > i; })) return nullptr;
    if (n) *n = waiting[i].first;
    return waiting[i].second;
  }
};

/** Reads until the server closes (@p closed: true), @p want bytes came, or the socket's timeout. */
std::string read_until_closed(Poco::Net::StreamSocket& s, std::size_t want = std::string::npos,
                              bool* closed = nullptr) {
  std::string out;
  std::vector<char> buf(65536);
  if (closed) *closed = false;
  try {
    while (out.size() < want) {
      const int n = s.receiveBytes(buf.data(), static_cast<int>(buf.size()));
      if (n <= 0) {
        if (closed) *closed = true;
        break;
      }
      out.append(buf.data(), static_cast<std::size_t>(n));
    }
  } catch (const Poco::TimeoutException&) {
  } catch (const Poco::Exception&) {
    if (closed) *closed = true;  // reset: closed too
  }
  return out;
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST(HttpServers, DeferredAnswersAreSentFromAnotherThreadInRequestOrder) {
  HttpServersImpl http;
  LaterAnswers answers;
  auto reg = http.add(local(), {{"GET", "/later/{n}", answers.handler()}});
  Poco::Net::StreamSocket s(Poco::Net::SocketAddress(reg->bound_address()));
  s.setReceiveTimeout(Poco::Timespan(20, 0));
  // Three pipelined requests in one write; the last one closes the connection.
  const std::string reqs =
      "GET /later/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /later/2 HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /later/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  s.sendBytes(reqs.data(), static_cast<int>(reqs.size()));
  std::thread acker([&] {
    for (std::size_t i = 0; i < 3; ++i) {
      std::string n;
      auto later = answers.wait_for(i, &n);
      if (!later) return;
      answers.answered.fetch_add(1);  // before: the next request may be dispatched as soon as it is sent
      EXPECT_TRUE(later->send(200, "text/plain", "answer " + n, {{"X-After", "yes"}}));
      EXPECT_FALSE(later->send(200, "text/plain", "twice")) << "a second answer must be refused";
    }
  });
  const std::string reply = read_until_closed(s);
  acker.join();
  const auto a1 = reply.find("answer 1"), a2 = reply.find("answer 2"), a3 = reply.find("answer 3");
  ASSERT_NE(a3, std::string::npos) << reply;
  EXPECT_LT(a1, a2);
  EXPECT_LT(a2, a3);
  EXPECT_EQ(count_of(reply, "HTTP/1.1 200 OK\r\n"), 3u) << reply;
  EXPECT_EQ(count_of(reply, "X-Before: set before defer\r\n"), 3u) << reply;
  EXPECT_EQ(count_of(reply, "X-After: yes\r\n"), 3u) << reply;
  EXPECT_EQ(count_of(reply, "Content-Type: "), 3u) << reply;
  EXPECT_EQ(count_of(reply, "Content-Type: text/plain\r\n"), 3u) << reply;
  EXPECT_EQ(reply.find("twice"), std::string::npos);
  EXPECT_NE(reply.find("Connection: close\r\n"), std::string::npos);
  // A pipelined request is dispatched only once the one before it was answered.
  std::lock_guard lock(answers.mu);
  EXPECT_EQ(answers.answered_before, (std::vector<int>{0, 1, 2}));
}

TEST(HttpServers, DeferredAnswerPastItsDeadlineGetsTheDeadlineAnswer) {
  HttpServersImpl http;
  LaterAnswers answers;
  auto reg = http.add(local(), {{"GET", "/later/{n}", answers.handler(std::chrono::milliseconds(300))}});
  Poco::Net::StreamSocket s(Poco::Net::SocketAddress(reg->bound_address()));
  s.setReceiveTimeout(Poco::Timespan(20, 0));
  const std::string req = "GET /later/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  s.sendBytes(req.data(), static_cast<int>(req.size()));
  const std::string reply = read_until_closed(s);
  EXPECT_EQ(reply.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << reply;
  EXPECT_NE(reply.find("Retry-After: 1\r\n"), std::string::npos);
  EXPECT_NE(reply.find("\r\n\r\nlate"), std::string::npos);
  auto later = answers.wait_for(0);
  ASSERT_NE(later, nullptr);
  EXPECT_FALSE(later->send(200, "text/plain", "too late")) << "the deadline's answer was the answer";
}

TEST(HttpServers, DeferredAnswerLargerThanTheSocketBuffersIsWrittenWhole) {
  HttpServersImpl http;
  LaterAnswers answers;
  auto reg = http.add(local(), {{"GET", "/later/{n}", answers.handler()}});
  Poco::Net::StreamSocket s(Poco::Net::SocketAddress(reg->bound_address()));
  s.setReceiveTimeout(Poco::Timespan(20, 0));
  const std::string req = "GET /later/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  s.sendBytes(req.data(), static_cast<int>(req.size()));
  auto later = answers.wait_for(0);
  ASSERT_NE(later, nullptr);
  // The client reads nothing until send() returned: the answering thread must not block on
  // it; the connection's own thread writes what did not fit.
  const std::string body(32 << 20, 'x');
  EXPECT_TRUE(later->send(200, "application/octet-stream", body));
  const std::string reply = read_until_closed(s);
  const auto start = reply.find("\r\n\r\n");
  ASSERT_NE(start, std::string::npos);
  EXPECT_NE(reply.find("Content-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos);
  EXPECT_EQ(reply.size() - start - 4, body.size());
}

namespace {

/** Answers with the request's body. */
sluice::HttpHandler echo() {
  return [](Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res, const PathParams&) {
    std::string body;
    Poco::StreamCopier::copyToString(req.stream(), body);
    res.setContentType("text/plain");
    res.sendBuffer(body.data(), body.size());
  };
}

Poco::Net::StreamSocket connect_to(const std::string& address) {
  Poco::Net::StreamSocket s{Poco::Net::SocketAddress(address)};
  s.setReceiveTimeout(Poco::Timespan(20, 0));
  return s;
}

void send_text(Poco::Net::StreamSocket& s, const std::string& text) {
  s.sendBytes(text.data(), static_cast<int>(text.size()));
}

/** Reads until @p marker has been received (or the connection ends). */
std::string read_until(Poco::Net::StreamSocket& s, const std::string& marker) {
  std::string out;
  char buf[4096];
  try {
    while (out.find(marker) == std::string::npos) {
      const int n = s.receiveBytes(buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
  } catch (const Poco::Exception&) {
  }
  return out;
}

}  // namespace

TEST(HttpServers, BodiesByLengthAndChunkedPipelinedInOneWrite) {
  HttpServersImpl http;
  auto reg = http.add(local(), {{"POST", "/echo", echo()}});
  auto s = connect_to(reg->bound_address());
  send_text(s,
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst"
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
            "chunked\r\n\r\n3;ext=1\r\nsec\r\n4\r\nond!\r\n0\r\n"
            "X-Trailer: t\r\n\r\n"
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nthird");
  const std::string reply = read_until_closed(s);
  const auto a = reply.find("\r\n\r\nfirst"), b = reply.find("\r\n\r\nsecond!"),
             c = reply.find("\r\n\r\nthird");
  ASSERT_NE(c, std::string::npos) << reply;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(count_of(reply, "HTTP/1.1 200 OK\r\n"), 3u) << reply;
}

TEST(HttpServers, ExpectContinueGetsTheInterimAnswerBeforeTheBody) {
  HttpServersImpl http;
  auto reg = http.add(local(), {{"POST", "/echo", echo()}});
  auto s = connect_to(reg->bound_address());
  send_text(s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  // The client waits for the interim answer before it sends the body.
  EXPECT_EQ(read_until(s, "\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
  send_text(s, "body");
  EXPECT_NE(read_until(s, "\r\n\r\nbody").find("HTTP/1.1 200 OK\r\n"), std::string::npos);
}

TEST(HttpServers, SlowBodyIs408AndOversizeBodyIsLeftToTheHandler) {
  HttpServersImpl http;
  HttpServerOptions o = local();
  o.body_timeout = std::chrono::milliseconds{500};
  o.max_body = 10;
  std::atomic<long long> seen_length{0};
  auto reg = http.add(
      o, {{"POST", "/echo", echo()},
          {"POST", "/size",
           [&](Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res, const PathParams&) {
             seen_length = req.getContentLength64();
             std::string body;
             Poco::StreamCopier::copyToString(req.stream(), body);
             res.setStatusAndReason(body.empty() ? Poco::Net::HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE
                                                 : Poco::Net::HTTPResponse::HTTP_OK);
             res.send();
           }}});
  auto slow = connect_to(reg->bound_address());
  send_text(slow, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\nabc");  // 5 bytes never come
  const std::string cut = read_until_closed(slow);
  EXPECT_EQ(cut.rfind("HTTP/1.1 408 ", 0), 0u) << cut;

  // Over max_body: the handler runs at once, sees the length and no body; then the connection closes.
  auto big = connect_to(reg->bound_address());
  send_text(big, "POST /size HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789");
  const std::string reply = read_until_closed(big);
  EXPECT_EQ(reply.rfind("HTTP/1.1 413 ", 0), 0u) << reply;
  EXPECT_NE(reply.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(seen_length.load(), 1000);
}

TEST(HttpServers, Http10ClosesAndIdleKeepAliveConnectionsAreClosed) {
  HttpServersImpl http;
  HttpServerOptions o = local();
  o.keep_alive_timeout = std::chrono::milliseconds{300};
  auto reg = http.add(o, {{"GET", "/health", text("ok")}});
  auto old = connect_to(reg->bound_address());
  send_text(old, "GET /health HTTP/1.0\r\n\r\n");
  const std::string r10 = read_until_closed(old);
  EXPECT_EQ(r10.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << r10;
  EXPECT_NE(r10.find("Connection: close\r\n"), std::string::npos);

  auto idle = connect_to(reg->bound_address());
  idle.setReceiveTimeout(Poco::Timespan(2, 0));  // keep_alive_timeout is 300 ms: 2 s is plenty
  send_text(idle, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  // Answered and kept open, then closed by the server once idle past keep_alive_timeout.
  bool closed = false;
  const auto t0 = std::chrono::steady_clock::now();
  const std::string r11 = read_until_closed(idle, std::string::npos, &closed);
  EXPECT_TRUE(closed)
      << "the idle keep-alive connection was still open after "
      << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()
      << " ms";
  EXPECT_EQ(r11.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r11;
  EXPECT_NE(r11.find("Connection: Keep-Alive\r\n"), std::string::npos);
}
