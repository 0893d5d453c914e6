// Shared HTTP servers: routing, path parameters, 404/405, one server per
// address shared by registrations, port 0, stop with the last registration.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

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
  // Removing one registration removes only its routes.
  first.reset();
  EXPECT_EQ(request(a, "GET", "/a").status, 404);
  EXPECT_EQ(request(a, "GET", "/b").body, "B");
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
    thread_ = std::thread([this, gap] {
      const std::string header = "GET /health HTTP/1.1\r\nHost: x\r\nX-Filler: " + std::string(200, 'a');
      for (char c : header) {
        if (stop_.load()) return;
        try {
          socket_.sendBytes(&c, 1);
        } catch (const Poco::Exception&) {
          return;  // the server closed the connection
        }
        std::this_thread::sleep_for(gap);
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
