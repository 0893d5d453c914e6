// The srp source (see srp_source.hpp): routes, deferred answers from the search
// threads, headers, gzip, the visitor's id, and the page-view events.
#include "srp_source.hpp"

#include <array>
#include <atomic>
#include <condition_variable>
#include <iterator>
#include <mutex>
#include <optional>
#include <random>

#include "assets.hpp"
#include "backend.hpp"
#include "pages.hpp"
#include "query.hpp"
#include "srp_config.hpp"
#include "templates.hpp"

namespace sluice::srp {
namespace {

using Clock = std::chrono::steady_clock;
using Headers = std::vector<std::pair<std::string, std::string>>;

enum class Route { Home, Search, ApiSearch, Item, ApiItem, Static };

constexpr int kCodes[] = {200, 304, 400, 404, 503};
constexpr std::size_t kMaxIdBytes = 512;

/** Headers of every answer: what a browser may do with the page (no script, nothing foreign). */
const Headers& security_headers() {
  static const Headers h = {
      {"Content-Security-Policy",
       "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "same-origin"},
      {"X-Frame-Options", "DENY"},
  };
  return h;
}

bool id_token(std::string_view s, std::size_t min, std::size_t max) {
  if (s.size() < min || s.size() > max) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  return true;
}

/** The value of cookie @p name in a Cookie header, or "". */
std::string cookie_value(const std::string& header, const std::string& name) {
  std::size_t start = 0;
  while (start < header.size()) {
    std::size_t semi = header.find(';', start);
    if (semi == std::string::npos) semi = header.size();
    std::string_view item(header.data() + start, semi - start);
    start = semi + 1;
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    const std::size_t eq = item.find('=');
    if (eq != std::string_view::npos && item.substr(0, eq) == name) return std::string(item.substr(eq + 1));
  }
  return {};
}

std::string random_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 2; ++i) {
    std::uint64_t v = rng();
    for (int k = 0; k < 16; ++k, v >>= 4) id += hex[v & 15];
  }
  return id;
}

}  // namespace

/** State the route handlers and the search threads share; outlives the source while a request runs. */
struct Service : std::enable_shared_from_this<Service> {
  PluginContext& pctx;
  Settings settings;
  Pages pages;
  std::shared_ptr<SearchIndex> index;
  SearchPool pool;

  std::mutex mu;
  std::condition_variable cv;
  SourceContext* sctx = nullptr;  ///< set while run() serves
  bool open = false;
  int emitting = 0;
  int in_flight = 0;

  std::array<Counter*, std::size(kCodes) + 1> responses{};
  Counter* views_emitted = nullptr;
  Counter* views_dropped = nullptr;
  Counter* backend_errors = nullptr;
  Histogram* search_seconds = nullptr;
  std::atomic<bool> problem{false};
  std::atomic<std::int64_t> last_drop_log_ms{0};
  std::atomic<std::int64_t> last_error_log_ms{0};

  Service(PluginContext& c, Settings s)
      : pctx(c),
        settings(std::move(s)),
        pages(WebFiles::load(settings.web_root, c.log())),
        index(open_index(c, settings.backend)),
        pool(settings.search_threads, settings.max_pending) {
    auto& m = c.metrics();
    for (std::size_t i = 0; i < std::size(kCodes); ++i)
      responses[i] = &m.counter("sluice_srp_responses_total", "Answers of the search page by status code",
                                {{"code", std::to_string(kCodes[i])}});
    responses.back() = &m.counter("sluice_srp_responses_total", "Answers of the search page by status code",
                                  {{"code", "other"}});
    views_emitted = &m.counter("sluice_srp_page_views_total", "Item page views handed to the pipeline",
                               {{"outcome", "emitted"}});
    views_dropped = &m.counter("sluice_srp_page_views_total",
                               "Item page views not recorded: the pipeline was full or stopping",
                               {{"outcome", "dropped"}});
    backend_errors = &m.counter("sluice_srp_backend_errors_total", "Searches the index failed to answer");
    search_seconds = &m.histogram("sluice_srp_search_seconds",
                                  "Time the index took to answer a page's searches", latency_buckets());
  }

  void count(int code) {
    for (std::size_t i = 0; i < std::size(kCodes); ++i)
      if (kCodes[i] == code) return responses[i]->inc();
    responses.back()->inc();
  }

  /** Logs at most once per 10 s per kind of trouble (@p last), with what happened meanwhile. */
  bool log_due(std::atomic<std::int64_t>& last) {
    const std::int64_t now = now_ms();
    std::int64_t prev = last.load();
    return now - prev >= 10000 && last.compare_exchange_strong(prev, now);
  }

  Headers final_headers(const Answer& a, bool gzipped, bool text) const {
    Headers h = a.headers;
    if (text) h.emplace_back("Vary", "Accept-Encoding");
    if (gzipped) h.emplace_back("Content-Encoding", "gzip");
    return h;
  }

  /** The body as sent: gzipped when the client takes it and it pays. */
  static bool compress(std::string& body, bool gz) {
    if (!gz || body.size() < 512) return false;
    body = gzip(body);
    return true;
  }

  void send(HttpLaterAnswer& later, Answer a, bool gz) {
    const bool z = compress(a.body, gz);
    const int status = a.status;
    if (later.send(a.status, a.content_type, a.body, final_headers(a, z, true))) count(status);
  }

  void send(Poco::Net::HTTPServerResponse& res, Answer a, bool gz) {
    const bool z = compress(a.body, gz);
    for (const auto& [name, value] : final_headers(a, z, true)) res.set(name, value);
    res.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(a.status));
    res.setContentType(a.content_type);
    res.setContentLength(static_cast<std::streamsize>(a.body.size()));
    res.sendBuffer(a.body.data(), a.body.size());
    count(a.status);
  }

  Answer unavailable(bool api, const std::string& why) const {
    return api ? Pages::error_json(503, why) : pages.error(503, why);
  }

  /** Runs @p work (which queries the index), turning a failing index into a 503. */
  Answer run_safely(const std::function<Answer()>& work, bool api) {
    const auto started = Clock::now();
    try {
      Answer a = work();
      search_seconds->observe(std::chrono::duration<double>(Clock::now() - started).count());
      if (problem.exchange(false)) {
        pctx.set_problem("");
        pctx.log().info("search index ", settings.backend.index, " answers again");
      }
      return a;
    } catch (const TemplateTooCostly& e) {  // the operator's web_root, not the index
      if (log_due(last_error_log_ms)) pctx.log().error("search page: ", e.what());
      return Answer{500,
                    "text/plain; charset=utf-8",
                    std::string("The page's template could not be rendered: ") + e.what() + "\n",
                    {}};
    } catch (const std::exception& e) {
      backend_errors->inc();
      const std::string why = "search index " + settings.backend.index + ": " + safe_utf8(e.what());
      pctx.set_problem(why);
      problem = true;
      if (log_due(last_error_log_ms))
        pctx.log().warn(why, " (", backend_errors->value(), " failed searches so far)");
      return unavailable(api,
                         "The search index does not answer right now. Nothing is wrong with your search.");
    }
  }

  /** Answers @p work's result, computed on a search thread; the event loop goes on at once. */
  void dispatch(Poco::Net::HTTPServerResponse& res, bool api, bool gz, std::function<Answer()> work) {
    for (const auto& [name, value] : security_headers()) res.set(name, value);
    res.set("Cache-Control", "no-cache");
    auto* deferrable = dynamic_cast<HttpDeferrable*>(&res);
    std::shared_ptr<HttpLaterAnswer> later;
    auto self = shared_from_this();
    if (deferrable)
      later = deferrable->defer(Clock::now() + settings.backend.timeout, [self, api, gz](HttpLaterAnswer& l) {
        self->send(l, self->unavailable(api, "The search index took too long to answer."), gz);
      });
    if (!later) return send(res, run_safely(work, api), gz);  // a server that cannot defer (TLS)
    // Held until answered: the source's destructor waits for every request it took.
    std::shared_ptr<void> flight;
    {
      std::lock_guard lock(mu);
      ++in_flight;
    }
    flight = std::shared_ptr<void>(nullptr, [self](void*) {
      std::lock_guard lock(self->mu);
      --self->in_flight;
      self->cv.notify_all();
    });
    const bool queued = pool.submit([self, later, api, gz, work = std::move(work), flight](bool run) {
      if (run) return self->send(*later, self->run_safely(work, api), gz);
      self->send(*later, self->unavailable(api, "The search page is stopping; try again in a moment."), gz);
    });
    if (!queued) send(*later, unavailable(api, "Too many searches are waiting; try again in a moment."), gz);
  }

  /** Hands a page view to the pipeline without waiting; a full pipeline counts and logs it. */
  void record_view(const std::string& user, const std::string& item) {
    Batch batch;
    const std::int64_t now = now_ms();
    batch.push_back(Event::from_json(Json{{"user_id", user}, {"item_id", safe_utf8(item)}, {"ts", now}}));
    batch.back().timestamp_ms = now;
    batch.back().meta.source = pctx.id();
    EmitResult r = EmitResult::Stopping;
    {
      std::unique_lock lock(mu);
      if (open && sctx) {
        ++emitting;
        SourceContext* ctx = sctx;
        lock.unlock();
        r = ctx->try_emit(batch, std::chrono::milliseconds{0});
        lock.lock();
        --emitting;
        cv.notify_all();
      }
    }
    if (r == EmitResult::Accepted) return views_emitted->inc();
    views_dropped->inc();
    if (log_due(last_drop_log_ms))
      pctx.log().warn("page views not recorded: the pipeline is ",
                      r == EmitResult::Full ? "full" : "stopping", " (", views_dropped->value(),
                      " dropped so far, sluice_srp_page_views_total{outcome=\"dropped\"})");
  }

  /** The visitor: the trusted header, else the cookie, else a new id set as the cookie. */
  std::string visitor(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res) const {
    const std::string& h = req.get(settings.user_header, Poco::Net::HTTPMessage::EMPTY);
    if (!h.empty() && h.size() <= 128 && valid_utf8(h)) return h;
    std::string id = cookie_value(req.get("Cookie", Poco::Net::HTTPMessage::EMPTY), settings.user_cookie);
    if (id_token(id, 8, 64)) return id;
    id = random_id();
    res.add("Set-Cookie",
            settings.user_cookie + "=" + id + "; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly");
    return id;
  }

  void serve_static(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res,
                    const std::string& name) {
    for (const auto& [n, v] : security_headers()) res.set(n, v);
    const Asset* a = pages.web().asset(name);
    if (!a) return send(res, Answer{404, "text/plain; charset=utf-8", "not found\n", {}}, false);
    const std::string v(query_of(req.getURI()));
    // A versioned URL (`?v=<hash>`, as the pages link it) never changes: cache it for good.
    res.set("Cache-Control", v == "v=" + a->version ? "public, max-age=31536000, immutable" : "no-cache");
    res.set("ETag", a->etag);
    if (!a->gzipped.empty()) res.set("Vary", "Accept-Encoding");
    if (req.get("If-None-Match", Poco::Net::HTTPMessage::EMPTY) == a->etag) {
      res.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_NOT_MODIFIED);
      res.setContentLength(0);
      res.send();
      return count(304);
    }
    const bool z =
        !a->gzipped.empty() && accepts_gzip(req.get("Accept-Encoding", Poco::Net::HTTPMessage::EMPTY));
    if (z) res.set("Content-Encoding", "gzip");
    const std::string& body = z ? a->gzipped : a->body;
    res.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
    res.setContentType(a->content_type);
    res.setContentLength(static_cast<std::streamsize>(body.size()));
    res.sendBuffer(body.data(), body.size());
    count(200);
  }

  SearchResult search(const SearchParams& p) const {
    SearchRequest r;
    r.text = p.q;
    r.sort = p.sort;
    r.from = first_hit(p);
    r.size = p.size;
    r.visits_missing = settings.visits_missing;
    return index->search(r);
  }

  /**
   * The home page, from listings at most kHomeTtl old: every visit of the home page would
   * otherwise run a `hot` ranking of the whole index, the costliest search there is.
   */
  Answer home_page() {
    {
      std::lock_guard lock(home_mu);
      if (home_cached && Clock::now() - home_at < kHomeTtl) return *home_cached;
    }
    SearchParams p;
    p.size = std::max<std::size_t>(settings.home_listings, 1);
    p.sort = SearchSort::Newest;
    SearchResult newest = search(p);
    p.sort = SearchSort::Hot;
    SearchResult hottest = search(p);
    if (settings.home_listings == 0) {
      newest.hits.clear();
      hottest.hits.clear();
    }
    Answer a = pages.home(newest, hottest, index->count());
    std::lock_guard lock(home_mu);
    home_cached = a;
    home_at = Clock::now();
    return a;
  }
  static constexpr std::chrono::milliseconds kHomeTtl{1000};
  std::mutex home_mu;
  std::optional<Answer> home_cached;  ///< guarded by home_mu
  Clock::time_point home_at;

  void handle(Route route, Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res,
              const PathParams& params);
};

void Service::handle(Route route, Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res,
                     const PathParams& params) {
  if (route == Route::Static) return serve_static(req, res, params.at("name"));
  const bool api = route == Route::ApiSearch || route == Route::ApiItem;
  const bool gz = accepts_gzip(req.get("Accept-Encoding", Poco::Net::HTTPMessage::EMPTY));
  auto self = shared_from_this();
  switch (route) {
    case Route::Home:
      visitor(req, res);
      return dispatch(res, false, gz, [self] { return self->home_page(); });
    case Route::Search:
    case Route::ApiSearch: {
      if (!api) visitor(req, res);
      SearchParams p;
      std::string error;
      if (!parse_search(parse_query_string(query_of(req.getURI())), settings.limits, p, error)) {
        for (const auto& [name, value] : security_headers()) res.set(name, value);
        return send(res, api ? Pages::error_json(400, error) : pages.error(400, error), gz);
      }
      return dispatch(res, api, gz, [self, p, api]() mutable {
        SearchResult result = self->search(p);
        const std::size_t pages = page_count(result.total, p.size);
        if (result.hits.empty() && pages > 0 && p.page > pages) {  // past the last page: show the last
          p.notices.push_back("There are only " + std::to_string(pages) + " pages: showing the last.");
          p.page = pages;
          result = self->search(p);
        }
        return api ? self->pages.results_json(p, result) : self->pages.results(p, result);
      });
    }
    case Route::Item:
    case Route::ApiItem: {
      const std::string user = api ? std::string() : visitor(req, res);
      const std::string id = params.at("id");
      const bool head = req.getMethod() == "HEAD";
      return dispatch(res, api, gz, [self, id, user, api, head] {
        std::optional<Json> doc;
        if (!id.empty() && id.size() <= kMaxIdBytes) doc = self->index->get(id);
        if (!doc) {
          const std::string msg = "There is no listing " + safe_utf8(id.substr(0, 80)) + ".";
          return api ? Pages::error_json(404, msg) : self->pages.error(404, msg);
        }
        if (api) {
          Answer a;
          a.content_type = "application/json";
          a.body = Json{{"id", safe_utf8(id)}, {"source", *doc}}.dump(-1, ' ', false,
                                                                      Json::error_handler_t::replace);
          return a;
        }
        if (!head) self->record_view(user, id);
        return self->pages.item(id, *doc);
      });
    }
    default:
      return;
  }
}

const Schema& SrpSource::schema() {
  return source_schema();
}

void SrpSource::check(const Config& config, ConfigIssues& issues) {
  check_source(config, issues);
}

SrpSource::SrpSource(PluginContext& ctx, const Config& config)
    : service_(std::make_shared<Service>(ctx, load_settings(config))) {}

SrpSource::~SrpSource() {
  Service& s = *service_;
  {
    std::lock_guard lock(s.mu);
    s.open = false;
  }
  // Requests still waiting for a search thread are answered now; the running ones finish.
  s.pool.stop();
  {
    std::unique_lock lock(s.mu);
    s.cv.wait(lock, [&] { return s.in_flight == 0; });
  }
  registration_.reset();
}

void SrpSource::run(SourceContext& ctx) {
  auto s = service_;
  auto route = [s](Route r) {
    return [s, r](Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res,
                  const PathParams& params) { s->handle(r, req, res, params); };
  };
  std::vector<HttpRoute> routes = {
      {"GET", "/", route(Route::Home)},
      {"GET", "/search", route(Route::Search)},
      {"GET", "/api/search", route(Route::ApiSearch)},
      {"GET", "/item/{id}", route(Route::Item)},
      {"GET", "/api/item/{id}", route(Route::ApiItem)},
      {"GET", "/static/{name}", route(Route::Static)},
  };
  HttpServerOptions server;
  server.listen = s->settings.listen;
  server.max_connections = s->settings.max_connections;
  server.max_body = 64 << 10;  // GET only: a body is never read
  {
    std::lock_guard lock(s->mu);
    s->sctx = &ctx;
    s->open = true;
  }
  try {
    registration_ = ctx.http().add(server, std::move(routes));
  } catch (const std::exception& e) {
    std::lock_guard lock(s->mu);
    s->open = false;
    s->sctx = nullptr;
    throw std::runtime_error(ctx.id() + ": " + e.what());
  }
  ctx.log().info("search page on http://", registration_->bound_address(), "/ (index ",
                 s->settings.backend.index, s->settings.backend.embedded ? ", embedded" : "", ")");
  while (!ctx.wait_stop(std::chrono::hours(1))) {
  }
  std::unique_lock lock(s->mu);
  s->open = false;
  s->cv.wait(lock, [&] { return s->emitting == 0; });
  s->sctx = nullptr;
}

}  // namespace sluice::srp
