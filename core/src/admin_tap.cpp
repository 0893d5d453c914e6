#include "admin_tap.hpp"

#include <algorithm>
#include <chrono>
#include <random>
#include <stdexcept>

#include <Poco/URI.h>
#include <nlohmann/json.hpp>

#include "admin.hpp"

namespace sluice::core {
namespace {

using Req = Poco::Net::HTTPServerRequest;
using Res = Poco::Net::HTTPServerResponse;
using Poco::Net::HTTPResponse;

constexpr double kDefaultRate = 100;     // events per second
constexpr double kMaxRate = 100000;      // a tap must not turn into a second sink
constexpr long kMaxWaitMs = 10000;       // a poll's longest wait (the session expires after 10 s idle)
constexpr std::size_t kMaxLines = 1000;  // lines per answer

void error(Res& res, HTTPResponse::HTTPStatus status, const std::string& why) {
  admin_reply(res, status, "application/json",
              nlohmann::json({{"error", safe_utf8(why)}})
                      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                  "\n");
}

std::map<std::string, std::string> query_of(const Req& req) {
  std::map<std::string, std::string> q;
  for (auto& [k, v] : Poco::URI(req.getURI()).getQueryParameters()) q[k] = v;  // throws on a bad URI
  return q;
}

/** The body and headers of an answer with @p t's lines. */
std::string body_of(const TapTake& t) {
  std::string body;
  for (const auto& l : t.lines) body.append(l).push_back('\n');
  return body;
}

std::vector<std::pair<std::string, std::string>> headers_of(const TapTake& t) {
  return {{"Cache-Control", "no-store"},
          {"X-Sluice-Tap-Skipped-Rate", std::to_string(t.skipped_rate)},
          {"X-Sluice-Tap-Skipped-Lagging", std::to_string(t.skipped_overflow)}};
}

void answer_now(Res& res, const TapTake& t) {
  if (t.lines.empty() && !t.closed.empty())
    return error(res, HTTPResponse::HTTP_GONE, "the tap ended: " + t.closed);
  for (const auto& [k, v] : headers_of(t)) res.set(k, v);
  admin_reply(res, HTTPResponse::HTTP_OK, "application/x-ndjson", body_of(t));
}

/** Answers a deferred poll with @p t (410 once the session ended); lines it could not send go back. */
void send_later(HttpLaterAnswer& later, TapSession& session, TapTake t) {
  if (t.lines.empty() && !t.closed.empty()) {
    later.send(410, "application/json",
               nlohmann::json({{"error", "the tap ended: " + t.closed}}).dump() + "\n");
    return;
  }
  if (!later.send(200, "application/x-ndjson", body_of(t), headers_of(t)))
    session.give_back(std::move(t.lines));  // the deadline answered first
}

std::string new_id() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard lock(mu);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

}  // namespace

std::shared_ptr<TapSession> TapSessions::find(const std::string& id) {
  std::lock_guard lock(mu_);
  sweep();
  const auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second;
}

std::size_t TapSessions::count() {
  std::lock_guard lock(mu_);
  sweep();
  return sessions_.size();
}

void TapSessions::sweep() {
  const auto now = TapSession::Clock::now();
  std::erase_if(sessions_, [&](const auto& kv) { return kv.second->expired(now); });
}

void TapSessions::add_routes(std::vector<HttpRoute>& routes, const Runtime& runtime) {
  routes.push_back({"POST", "/tap", [this, &runtime](Req& req, Res& res, const PathParams&) {
                      try {
                        const auto q = query_of(req);
                        const auto pipeline = q.find("pipeline");
                        if (pipeline == q.end() || pipeline->second.empty())
                          return error(res, HTTPResponse::HTTP_BAD_REQUEST,
                                       "say which pipeline: ?pipeline=NAME");
                        double rate = kDefaultRate;
                        if (const auto r = q.find("rate"); r != q.end()) {
                          std::size_t used = 0;
                          rate = std::stod(r->second, &used);
                          if (used != r->second.size() || !(rate > 0) || rate > kMaxRate)
                            throw std::invalid_argument("rate");
                        }
                        const auto component = q.count("component") ? q.at("component") : std::string();
                        const bool meta = q.count("meta") && q.at("meta") != "0" && q.at("meta") != "false";
                        const std::string id = new_id();
                        auto session = std::make_shared<TapSession>(rate, meta);
                        const std::string where = runtime.attach_tap(pipeline->second, component, session);
                        {
                          std::lock_guard lock(mu_);
                          sweep();
                          sessions_[id] = session;
                        }
                        admin_reply(res, HTTPResponse::HTTP_CREATED, "application/json",
                                    nlohmann::json({{"id", id}, {"component", where}, {"rate", rate}})
                                            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                                        "\n");
                      } catch (const std::invalid_argument& e) {
                        const std::string what = e.what();
                        if (what == "rate" || what == "stod")
                          return error(res, HTTPResponse::HTTP_BAD_REQUEST,
                                       "rate: a number of events per second, above 0 and at most 100000");
                        error(res, HTTPResponse::HTTP_NOT_FOUND, what);
                      } catch (const std::exception& e) {
                        error(res, HTTPResponse::HTTP_BAD_REQUEST, e.what());
                      }
                    }});
  routes.push_back({"GET", "/tap/{id}", [this](Req& req, Res& res, const PathParams& params) {
                      auto session = find(params.at("id"));
                      if (!session)
                        return error(res, HTTPResponse::HTTP_NOT_FOUND, "no such tap (it expired?)");
                      long wait_ms = 0;
                      std::size_t max = kMaxLines;
                      try {
                        const auto q = query_of(req);
                        if (const auto w = q.find("wait"); w != q.end()) wait_ms = std::stol(w->second);
                        if (const auto m = q.find("max"); m != q.end()) max = std::stoul(m->second);
                      } catch (const std::exception&) {
                        return error(res, HTTPResponse::HTTP_BAD_REQUEST, "wait and max are numbers");
                      }
                      wait_ms = std::clamp(wait_ms, 0L, kMaxWaitMs);
                      max = std::clamp<std::size_t>(max, 1, kMaxLines);
                      auto* deferrable = dynamic_cast<HttpDeferrable*>(&res);
                      if (wait_ms == 0 || !deferrable) return answer_now(res, session->take(max));
                      // Until lines arrive or `wait` passes, the answer waits off the event loop.
                      auto later = deferrable->defer(
                          std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms),
                          // Weak: the session holds this answer until it is sent (no cycle).
                          [weak = std::weak_ptr<TapSession>(session)](HttpLaterAnswer& a) {
                            auto s = weak.lock();
                            if (!s) {
                              a.send(410, "application/json", "{\"error\":\"the tap ended\"}\n");
                              return;
                            }
                            TapTake t = s->take(0);  // counters only; lines wait for the next poll
                            a.send(200, "application/x-ndjson", "", headers_of(t));
                          });
                      if (!later) return answer_now(res, session->take(max));
                      std::weak_ptr<TapSession> weak = session;
                      auto deliver = [weak, later, max] {
                        if (auto s = weak.lock()) send_later(*later, *s, s->take(max));
                      };
                      TapTake t = session->take(max, deliver);
                      if (!t.lines.empty() || !t.closed.empty()) send_later(*later, *session, std::move(t));
                    }});
  routes.push_back({"DELETE", "/tap/{id}", [this](Req&, Res& res, const PathParams& params) {
                      std::shared_ptr<TapSession> session;
                      {
                        std::lock_guard lock(mu_);
                        const auto it = sessions_.find(params.at("id"));
                        if (it != sessions_.end()) {
                          session = it->second;
                          sessions_.erase(it);
                        }
                      }
                      if (!session) return error(res, HTTPResponse::HTTP_NOT_FOUND, "no such tap");
                      session->close("the listener left");
                      res.setStatus(HTTPResponse::HTTP_NO_CONTENT);
                      res.setContentLength(0);
                      res.send();
                    }});
}

}  // namespace sluice::core
