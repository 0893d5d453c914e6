// The http source in real pipelines (harness: capture sink), over real sockets on loopback.
#include <gtest/gtest.h>

#include <atomic>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <sluice/testing.hpp>

#include <mutex>
#include <thread>

using namespace std::chrono_literals;
using sluice::testing::Harness;

namespace {

struct Reply {
  int status = 0;
  std::string body;
  Poco::Net::HTTPResponse head;
};

int free_port() {
  Poco::Net::ServerSocket s(Poco::Net::SocketAddress("127.0.0.1:0"));
  return s.address().port();
}

Reply call(int port, const std::string& method, const std::string& path, const std::string& body = "",
           std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"}},
           bool chunked = false) {
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
  session.setTimeout(Poco::Timespan(20, 0));
  Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  for (const auto& [k, v] : headers) req.set(k, v);
  if (chunked)
    req.setChunkedTransferEncoding(true);
  else if (!body.empty() || method == "POST")
    req.setContentLength(static_cast<std::streamsize>(body.size()));
  session.sendRequest(req) << body;
  Reply r;
  std::istream& in = session.receiveResponse(r.head);
  r.status = r.head.getStatus();
  Poco::StreamCopier::copyToString(in, r.body);
  return r;
}

std::string pipeline(int port, const std::string& routes, const std::string& source_extra = "",
                     const std::string& sink = "{type: capture}") {
  return "pipelines:\n  in:\n    source:\n      type: http\n      listen: 127.0.0.1:" + std::to_string(port) +
         "\n" + source_extra + "      routes:\n" + routes + "    sinks: [" + sink + "]\n";
}

/** Waits until the source answers (its routes are registered when the pipeline's thread starts). */
void wait_listening(int port, const std::string& path = "/") {
  for (int i = 0; i < 200; ++i) {
    try {
      call(port, "GET", "/__probe__" + path);
      return;
    } catch (const Poco::Exception&) {
      std::this_thread::sleep_for(50ms);
    }
  }
  FAIL() << "http source did not start listening on " << port;
}

const char* const click =
    R"({"visitor_platform": "mobile","ts_ingest": 1515819844345,"article_title": "Cercanías San Sebastián","visitor_country": "BE"})";

}  // namespace

TEST(HttpSource, PostedObjectIsStoredThenAnswered) {
  Harness h;
  const int port = free_port();
  h.start(pipeline(port, "        - {method: POST, path: /clicks}\n"));
  wait_listening(port);
  Reply r = call(port, "POST", "/clicks", click);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"success": true})");
  EXPECT_EQ(r.head.getContentType(), "application/json");
  // Answered after the sink acknowledged it: it is already captured, bytes as sent.
  auto got = h.captured("out");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload(), click);
  EXPECT_EQ(got[0].meta.topic, "/clicks");
  ASSERT_NE(got[0].meta.header("Content-Type"), nullptr);
}

TEST(HttpSource, MalformedOrWrongShapeIs400AndEmitsNothing) {
  Harness h;
  const int port = free_port();
  h.start(pipeline(
      port,
      "        - {method: POST, path: /clicks}\n        - {method: POST, path: /batch, body: json_array}\n"));
  wait_listening(port);
  for (const std::string bad : {R"({"visitor_platform": "mobile",)", "[1, 2]", "", "{} {}"}) {
    Reply r = call(port, "POST", "/clicks", bad);
    EXPECT_EQ(r.status, 400) << bad;
    auto j = sluice::Json::parse(r.body);
    EXPECT_EQ(j["success"], false);
    EXPECT_FALSE(j["message"].get<std::string>().empty());
  }
  Reply r = call(port, "POST", "/batch", R"([{"n": 1}, "two"])");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("element 1"), std::string::npos) << r.body;
  EXPECT_EQ(call(port, "POST", "/batch", R"([{"n": 1}, {"n": 2}])").status, 200);
  auto got = h.captured("out");
  ASSERT_EQ(got.size(), 2u);  // only the good array's two events
  EXPECT_EQ(got[0].fields()["n"], 1);
  EXPECT_EQ(got[1].fields()["n"], 2);
}

TEST(HttpSource, AnEventWithoutARequiredFieldIs400AndEmitsNothing) {
  Harness h;
  const int port = free_port();
  h.start(pipeline(port,
                   "        - {method: POST, path: /listings, required: [id, seller.id]}\n"
                   "        - {method: POST, path: /batch, body: json_array, required: [id]}\n"));
  wait_listening(port);
  const std::pair<std::string, std::string> refused[] = {
      {R"({"title": "lamp", "seller": {"id": 7}})", "field 'id' is required"},
      {R"({"id": null, "seller": {"id": 7}})", "field 'id' is required: it is null"},
      {R"({"id": "", "seller": {"id": 7}})", "field 'id' is required: it is empty"},
      {R"({"id": 1, "seller": {}})", "field 'seller.id' is required"},
  };
  for (const auto& [body, message] : refused) {
    Reply r = call(port, "POST", "/listings", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(sluice::Json::parse(r.body)["message"], message) << body;
  }
  Reply r = call(port, "POST", "/batch", R"([{"id": 1}, {"title": "no id"}])");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(sluice::Json::parse(r.body)["message"], "field 'id' is required (missing in event 2 of 2)");
  EXPECT_EQ(call(port, "POST", "/listings", R"({"id": 0, "seller": {"id": "s"}})").status, 200);
  auto got = h.captured("out");
  ASSERT_EQ(got.size(), 1u);  // only the listing with both fields; nothing of the refused batch
  EXPECT_EQ(got[0].fields()["id"], 0);
}

TEST(HttpSource, BodyLimitContentTypeAndUnknownRoutes) {
  Harness h;
  const int port = free_port();
  h.start(pipeline(port, "        - {method: POST, path: /clicks}\n", "      max_body: 64\n"));
  wait_listening(port);
  const std::string big(100, ' ');
  EXPECT_EQ(call(port, "POST", "/clicks", "{\"a\": \"" + big + "\"}").status, 413);
  EXPECT_EQ(
      call(port, "POST", "/clicks", "{\"a\": \"" + big + "\"}", {{"Content-Type", "application/json"}}, true)
          .status,
      413);
  EXPECT_EQ(call(port, "POST", "/clicks", R"({"a": 1})", {{"Content-Type", "text/html"}}).status, 415);
  EXPECT_EQ(call(port, "POST", "/clicks", R"({"a": 1})", {}).status, 200);  // no Content-Type: taken as JSON
  EXPECT_EQ(call(port, "POST", "/clicks", R"({"a": 2})", {{"Content-Type", "application/json"}}, true).status,
            200);
  EXPECT_EQ(call(port, "POST", "/nope", "{}").status, 404);
  Reply r = call(port, "GET", "/clicks");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.head.get("Allow", ""), "POST");
  EXPECT_EQ(h.captured("out").size(), 2u);
}

TEST(HttpSource, BearerAndBasicAuth) {
  setenv("SLUICE_HTTP_TEST_TOKEN", "t0ken", 1);
  Harness h;
  const int port = free_port();
  h.start(pipeline(
      port,
      "        - {method: POST, path: /bearer, auth: {type: bearer, token_env: SLUICE_HTTP_TEST_TOKEN}}\n"
      "        - {method: POST, path: /basic, auth: {type: basic, username: ann, token: pw}}\n"));
  wait_listening(port);
  Reply r = call(port, "POST", "/bearer", "{}", {{"Authorization", "Bearer wrong"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.head.get("WWW-Authenticate", ""), "Bearer realm=\"sluice\"");
  EXPECT_EQ(call(port, "POST", "/bearer", "{}").status, 401);
  EXPECT_EQ(call(port, "POST", "/bearer", "{}", {{"Authorization", "Bearer t0ken"}}).status, 200);
  // ann:pw and ann:px
  EXPECT_EQ(call(port, "POST", "/basic", "{}", {{"Authorization", "Basic YW5uOnB3"}}).status, 200);
  r = call(port, "POST", "/basic", "{}", {{"Authorization", "Basic YW5uOnB4"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.head.get("WWW-Authenticate", "").find("Basic"), std::string::npos);
  EXPECT_EQ(h.captured("out").size(), 2u);
}

TEST(HttpSource, GetRouteAddsFieldsQueryPathAndHeaders) {
  Harness h;
  const int port = free_port();
  h.start(pipeline(port,
                   "        - method: GET\n"
                   "          path: /purchase/{item}\n"
                   "          query: [kind]\n"
                   "          headers: [Host, User-Agent, Accept]\n"
                   "          fields: {event_type: purchase}\n"
                   "          response: \"Purchased!\\n\"\n"));
  wait_listening(port);
  Reply r = call(port, "GET", "/purchase/sword?kind=katana&other=x", "",
                 {{"User-Agent", "curl/7.88.1"}, {"Accept", "*/*"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "Purchased!\n");
  EXPECT_EQ(r.head.getContentType(), "text/plain; charset=utf-8");
  auto got = h.captured("out");
  ASSERT_EQ(got.size(), 1u);
  const auto& f = got[0].fields();
  EXPECT_EQ(f["event_type"], "purchase");
  EXPECT_EQ(f["item"], "sword");
  EXPECT_EQ(f["kind"], "katana");
  EXPECT_FALSE(f.contains("other"));
  EXPECT_EQ(f["Host"], "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(f["User-Agent"], "curl/7.88.1");
  EXPECT_EQ(f["Accept"], "*/*");
  ASSERT_NE(got[0].meta.attribute("item"), nullptr);
  EXPECT_EQ(*got[0].meta.attribute("item"), "sword");
}

TEST(HttpSource, FailedAcknowledgementIsNever200) {
  Harness h;
  const int port = free_port();
  // error_when: the sink refuses events with `bad`, and so does the dead-letter sink: they fail.
  h.start(pipeline(port, "        - {method: POST, path: /e}\n", "", "{type: capture, error_when: bad}") +
          "    dead_letter: {type: capture, name: dlq, error_when: bad}\n");
  wait_listening(port);
  Reply r = call(port, "POST", "/e", R"({"bad": true})");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.head.get("Retry-After", ""), "1");
  EXPECT_EQ(call(port, "POST", "/e", R"({"bad": false})").status, 200);
}

TEST(HttpSource, NoAcknowledgementInTimeIs503ThenDeliveredLater) {
  Harness h;
  const int port = free_port();
  h.start(pipeline(
      port, "        - {method: POST, path: /e}\n        - {method: POST, path: /fast, answer: accept}\n",
      "      ack_timeout: 300ms\n      retry_after: 7\n", "{type: capture, delay: 2s}"));
  wait_listening(port);
  Reply r = call(port, "POST", "/e", R"({"n": 1})");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.head.get("Retry-After", ""), "7");
  auto j = sluice::Json::parse(r.body);
  EXPECT_EQ(j["success"], false);
  // answer: accept does not wait for the slow sink.
  EXPECT_EQ(call(port, "POST", "/fast", R"({"n": 2})").status, 200);
  EXPECT_TRUE(h.wait_captured("out", 2, 30s));
}

TEST(HttpSource, NdjsonAndCorsPreflight) {
  Harness h;
  const int port = free_port();
  h.start(pipeline(port, "        - {method: POST, path: /bulk, body: ndjson}\n",
                   "      cors: {origins: [\"https://shop.example\"]}\n"));
  wait_listening(port);
  Reply r = call(port, "POST", "/bulk", "{\"n\": 1}\n{\"n\": 2}\n{\"n\": 3}\n",
                 {{"Content-Type", "application/x-ndjson"}, {"Origin", "https://shop.example"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.head.get("Access-Control-Allow-Origin", ""), "https://shop.example");
  EXPECT_EQ(h.captured("out").size(), 3u);
  r = call(port, "OPTIONS", "/bulk", "",
           {{"Origin", "https://shop.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.head.get("Access-Control-Allow-Methods", ""), "POST, OPTIONS");
  r = call(port, "POST", "/bulk", "{\"n\": 4}\n",
           {{"Content-Type", "application/x-ndjson"}, {"Origin", "https://evil.example"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.head.has("Access-Control-Allow-Origin"));
}

TEST(HttpSource, DuplicateRouteIsAConfigError) {
  Harness h;
  try {
    h.start(
        pipeline(free_port(), "        - {method: POST, path: /a}\n        - {method: POST, path: /a}\n"));
    FAIL() << "started with a duplicate route";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("declared twice"), std::string::npos) << e.what();
  }
}

TEST(HttpSource, SourcesOnOneAddressShareTheServer) {
  Harness h;
  const int port = free_port();
  const std::string listen = "127.0.0.1:" + std::to_string(port);
  h.start(
      "pipelines:\n"
      "  a:\n"
      "    source: {type: http, listen: \"" +
      listen +
      "\", routes: [{method: POST, path: /a}]}\n"
      "    sinks: [{type: capture, name: a}]\n"
      "  b:\n"
      "    source: {type: http, listen: \"" +
      listen +
      "\", routes: [{method: POST, path: /b}]}\n"
      "    sinks: [{type: capture, name: b}]\n");
  wait_listening(port);
  // Both pipelines' routes registered: wait until each answers (the two sources start independently).
  for (const char* path : {"/a", "/b"}) {
    int status = 0;
    for (int i = 0; i < 200 && status != 200; ++i) {
      status = call(port, "POST", path, R"({"to": 1})").status;
      if (status != 200) std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(status, 200) << path;
  }
  EXPECT_EQ(h.captured("a").size(), 1u);
  EXPECT_EQ(h.captured("b").size(), 1u);
}

TEST(HttpSource, FullPipelineIs503WithRetryAfter) {
  Harness h;
  const int port = free_port();
  // One event fits in the queue and the sink takes 3 s per write: the third concurrent request
  // finds no room within emit_timeout.
  h.start(
      "pipelines:\n  in:\n    queue_max_events: 1\n    source:\n      type: http\n      listen: 127.0.0.1:" +
      std::to_string(port) +
      "\n      emit_timeout: 100ms\n      ack_timeout: 20s\n      routes: [{method: POST, path: /e}]\n"
      "    sinks: [{type: capture, delay: 3s}]\n");
  wait_listening(port);
  std::vector<std::thread> clients;
  std::mutex mu;
  std::vector<Reply> replies;
  for (int i = 0; i < 3; ++i) {
    clients.emplace_back([&, i] {
      Reply r = call(port, "POST", "/e", "{\"n\": " + std::to_string(i) + "}");
      std::lock_guard lock(mu);
      replies.push_back(r);
    });
    std::this_thread::sleep_for(500ms);  // arrival order only; the outcome is checked below
  }
  for (auto& t : clients) t.join();
  int ok = 0, full = 0;
  for (const auto& r : replies) {
    if (r.status == 200) ++ok;
    if (r.status == 503 && r.head.get("Retry-After", "") == "1" && r.body.find("full") != std::string::npos)
      ++full;
  }
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(full, 1);
  EXPECT_TRUE(h.wait_captured("out", 2, 30s));
  EXPECT_EQ(h.captured("out").size(), 2u);  // the refused one was not emitted
}

TEST(HttpSource, RequestsWaitingForRoomDoNotHoldTheServer) {
  Harness h;
  const int port = free_port();
  // The pipeline stays full while the requests wait: one event in the queue, a sink that takes 6 s.
  h.start(
      "pipelines:\n  in:\n    queue_max_events: 1\n    shutdown_timeout: 1s\n    source:\n      type: http\n"
      "      listen: 127.0.0.1:" +
      std::to_string(port) +
      "\n      emit_timeout: 3s\n      routes: [{method: POST, path: /e}]\n"
      "    sinks: [{type: capture, delay: 6s}]\n");
  wait_listening(port);
  std::thread first([&] { call(port, "POST", "/e", "{\"n\": 0}"); });   // written by the sink: 6 s
  std::thread second([&] { call(port, "POST", "/e", "{\"n\": 1}"); });  // fills the queue
  std::this_thread::sleep_for(300ms);                                   // arrival order only
  std::atomic<int> refused{0};
  std::vector<std::thread> waiting;
  for (int i = 0; i < 6; ++i)
    waiting.emplace_back([&] {
      const Reply r = call(port, "POST", "/e", "{\"n\": 2}");
      if (r.status == 503 && r.body.find("full") != std::string::npos) ++refused;
    });
  // While those wait for room (up to emit_timeout), the server still answers other requests.
  const Reply other = call(port, "GET", "/nowhere");
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(refused.load(), 0) << "an unrelated request waited behind requests waiting for room";
  for (auto& t : waiting) t.join();
  EXPECT_EQ(refused.load(), 6);
  h.stop();
  first.join();
  second.join();
}
