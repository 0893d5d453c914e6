// The test harness: real loader, validation and runtime, plus the `inject`
// source and `capture` sink that exist only here.
#include "sluice/testing.hpp"

#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "config/pipeline_config.hpp"
#include "http/http_servers.hpp"
#include "loader.hpp"
#include "metrics_registry.hpp"
#include "runtime/runtime.hpp"
#include "sluice/sdk.hpp"

namespace sluice::testing {

std::string default_plugin_dir() {
  // Installed (<prefix>/lib/libsluice-testing.so): the prefix's plugins; in the build tree: the tree's.
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&default_plugin_dir), &info) && info.dli_fname) {
    const auto installed = std::filesystem::path(info.dli_fname).parent_path() / "sluice" / "plugins";
    std::error_code ec;
    if (std::filesystem::is_directory(installed, ec)) return installed.string();
  }
  return SLUICE_BUILD_PLUGIN_DIR;
}

namespace {

using namespace std::chrono_literals;

/** Events pushed by the test, waiting for an inject source. */
struct InjectChannel {
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<Event> pending;
  std::size_t injected = 0;  // events pushed so far
  std::size_t handled = 0;   // events the source emitted (or gave up on)
  std::vector<std::optional<AckStatus>> statuses;
  std::size_t completed = 0;
  bool closed = false;
  bool source_attached = false;
  bool finite = false;
};

struct CaptureChannel {
  mutable std::mutex mutex;
  mutable std::condition_variable cv;
  std::vector<Event> events;
  std::size_t in_flight = 0;      ///< asynchronous writes started and not completed
  std::size_t max_in_flight = 0;  ///< the most at once
};

/** Channels by name; shared by the harness and the plugin instances. */
struct Channels {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<InjectChannel>> inject;
  std::map<std::string, std::shared_ptr<CaptureChannel>> capture;

  std::shared_ptr<InjectChannel> in(const std::string& name) {
    std::lock_guard lock(mutex);
    auto& c = inject[name];
    if (!c) c = std::make_shared<InjectChannel>();
    return c;
  }
  std::shared_ptr<CaptureChannel> out(const std::string& name) {
    std::lock_guard lock(mutex);
    auto& c = capture[name];
    if (!c) c = std::make_shared<CaptureChannel>();
    return c;
  }
};

// Plugin instances are created on the thread that runs Harness::start/reload.
thread_local Channels* g_building = nullptr;

Channels& building() {
  if (!g_building) throw std::runtime_error("inject/capture exist only inside sluice::testing::Harness");
  return *g_building;
}

void release_all(std::deque<Event>& events, AckStatus status) {
  for (auto& e : events) e.ack.release(status);
  events.clear();
}

class InjectSource final : public Source {
 public:
  InjectSource(PluginContext&, const Config& config)
      : channel_(building().in(config.str("name"))),
        batch_size_(static_cast<std::size_t>(std::max<std::int64_t>(config.integer("batch_size"), 1))) {
    // Attached from creation, so an inject() right after start() waits for run() to take its events.
    std::lock_guard lock(channel_->mutex);
    channel_->finite = config.boolean("finite");
    channel_->source_attached = true;
  }
  ~InjectSource() override {
    {
      std::lock_guard lock(channel_->mutex);
      channel_->source_attached = false;
    }
    channel_->cv.notify_all();
  }

  void run(SourceContext& ctx) override {
    auto& ch = *channel_;
    for (;;) {
      Batch batch;
      {
        std::unique_lock lock(ch.mutex);
        ch.cv.wait_for(lock, 50ms, [&] { return !ch.pending.empty() || ch.closed || ctx.stopping(); });
        if (ctx.stopping()) break;
        if (ch.pending.empty()) {
          if (ch.closed && ch.finite) break;
          continue;
        }
        while (!ch.pending.empty() && batch.size() < batch_size_) {
          batch.push_back(std::move(ch.pending.front()));
          ch.pending.pop_front();
        }
      }
      const std::size_t n = batch.size();
      const bool ok = ctx.emit(batch);
      if (!ok)
        for (auto& e : batch) e.ack.release(AckStatus::Failed);
      {
        std::lock_guard lock(ch.mutex);
        ch.handled += n;
      }
      ch.cv.notify_all();
      if (!ok) break;
    }
    // Whatever the source did not take never entered the pipeline: failed.
    std::deque<Event> left;
    {
      std::lock_guard lock(ch.mutex);
      left.swap(ch.pending);
      ch.handled += left.size();
      ch.source_attached = false;
    }
    release_all(left, AckStatus::Failed);
    ch.cv.notify_all();
  }

  void stop() override { channel_->cv.notify_all(); }

 private:
  std::shared_ptr<InjectChannel> channel_;
  std::size_t batch_size_;
};

bool truthy(const Json& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();
  return !v.empty();
}

class CaptureSink final : public Sink {
 public:
  CaptureSink(PluginContext& ctx, const Config& config)
      : ctx_(ctx),
        channel_(building().out(config.str("name"))),
        fail_first_(config.integer("fail_first")),
        unavailable_first_(config.integer("unavailable_first")),
        delay_(config.duration("delay")),
        async_(config.boolean("async")) {
    if (config.has("error_when") && !config.str("error_when").empty()) {
      std::string err;
      error_when_ = FieldPath::parse(config.str("error_when"), &err);
      if (!error_when_) throw std::runtime_error("error_when: " + err);
    }
    if (async_) completer_ = std::thread([this] { complete_writes(); });
  }

  ~CaptureSink() override {
    if (!completer_.joinable()) return;
    {
      std::lock_guard lock(async_mu_);
      stop_ = true;
    }
    async_cv_.notify_all();
    completer_.join();
  }

  bool asynchronous() const override { return async_; }

  /** Queued for the completer thread, which writes (and delays) each in turn, then calls done. */
  void write_async(Batch& batch, WriteCompletion done) override {
    {
      std::lock_guard lock(channel_->mutex);
      channel_->max_in_flight = std::max(channel_->max_in_flight, ++channel_->in_flight);
    }
    {
      std::lock_guard lock(async_mu_);
      pending_.emplace_back(&batch, std::move(done));
    }
    async_cv_.notify_one();
  }

  WriteResult write(Batch& batch) override {
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    if (fail_first_.load() > 0 && fail_first_.fetch_sub(1) > 0)
      return WriteResult::retry("capture: fail_first");
    if (unavailable_first_.load() > 0 && unavailable_first_.fetch_sub(1) > 0) {
      ctx_.set_problem("capture: unavailable_first");
      return WriteResult::unavailable("capture: unavailable_first");
    }
    ctx_.set_problem("");
    WriteResult result;
    std::vector<Event> kept;
    kept.reserve(batch.size());
    if (error_when_) result.per_event.reserve(batch.size());
    for (const auto& e : batch) {
      if (error_when_) {
        auto v = error_when_->get(e);
        if (v && truthy(*v)) {
          result.per_event.emplace_back(Outcome::Error, "capture: " + error_when_->text() + " is set");
          continue;
        }
        result.per_event.emplace_back(Outcome::Ok, "");
      }
      Event copy;
      copy.set_payload(e.payload());
      copy.timestamp_ms = e.timestamp_ms;
      copy.meta = e.meta;
      kept.push_back(std::move(copy));
    }
    {
      std::lock_guard lock(channel_->mutex);
      for (auto& e : kept) channel_->events.push_back(std::move(e));
    }
    channel_->cv.notify_all();
    (void)ctx_;
    return result;
  }

 private:
  void complete_writes() {
    std::unique_lock lock(async_mu_);
    for (;;) {
      async_cv_.wait(lock, [&] { return stop_ || !pending_.empty(); });
      if (pending_.empty()) return;
      auto [batch, done] = std::move(pending_.front());
      pending_.pop_front();
      lock.unlock();
      WriteResult r = write(*batch);
      {
        std::lock_guard channel_lock(channel_->mutex);
        --channel_->in_flight;
      }
      done(std::move(r));
      lock.lock();
    }
  }

  PluginContext& ctx_;
  std::shared_ptr<CaptureChannel> channel_;
  std::atomic<std::int64_t> fail_first_;
  std::atomic<std::int64_t> unavailable_first_;
  std::chrono::milliseconds delay_;
  std::optional<FieldPath> error_when_;
  const bool async_;
  std::mutex async_mu_;
  std::condition_variable async_cv_;
  std::deque<std::pair<Batch*, WriteCompletion>> pending_;
  bool stop_ = false;
  std::thread completer_;
};

const Schema& inject_schema() {
  static const Schema s = SchemaBuilder()
                              .option("name", OptionType::String)
                              .def("in")
                              .doc("Name used by Harness::inject and Harness::close.")
                              .option("finite", OptionType::Bool)
                              .def("false")
                              .doc("End after Harness::close(name) once every pushed event was emitted.")
                              .option("batch_size", OptionType::Int)
                              .def("100")
                              .range(1, std::nullopt)
                              .doc("Most events handed to one emit().")
                              .build();
  return s;
}

const Schema& capture_schema() {
  static const Schema s = SchemaBuilder()
                              .option("name", OptionType::String)
                              .def("out")
                              .doc("Name used by Harness::captured.")
                              .option("fail_first", OptionType::Int)
                              .def("0")
                              .range(0, std::nullopt)
                              .doc("Answer Retry to the first N writes.")
                              .option("unavailable_first", OptionType::Int)
                              .def("0")
                              .range(0, std::nullopt)
                              .doc(
                                  "Answer Unavailable to the first N writes (after fail_first), reporting "
                                  "a problem meanwhile.")
                              .option("error_when", OptionType::Field)
                              .doc("Events where this field is truthy get Error.")
                              .option("delay", OptionType::Duration)
                              .def("0ms")
                              .doc("Sleep before each write (a slow sink).")
                              .option("async", OptionType::Bool)
                              .def("false")
                              .doc("An asynchronous sink: writes complete on a thread of its own.")
                              .build();
  return s;
}

const PluginDescriptor& inject_descriptor() {
  static const PluginDescriptor d =
      describe<InjectSource>(PluginKind::Source, "inject",
                             "Test source: emits events pushed with Harness::inject.", "", &inject_schema);
  return d;
}

const PluginDescriptor& capture_descriptor() {
  static const PluginDescriptor d = describe<CaptureSink>(
      PluginKind::Sink, "capture", "Test sink: keeps events for Harness::captured.", "", &capture_schema);
  return d;
}

}  // namespace

struct Harness::Impl {
  core::PluginLoader loader;
  core::MetricsRegistry registry;
  core::HttpServersImpl http;
  Channels channels;
  TempDir data_dir{"sluice-harness"};  // before runtime: removed after it stopped
  std::unique_ptr<core::Runtime> runtime;

  ~Impl() { runtime.reset(); }

  std::optional<core::ConfigSet> parse(const std::string& yaml) {
    core::Diagnostics diags;
    auto cfg = core::load_config_text(yaml, "<harness>", loader, diags);
    if (!cfg || !diags.empty()) throw std::runtime_error(diags.format());
    return cfg;
  }

  template <typename F>
  void building_with(F&& f) {
    g_building = &channels;
    try {
      f();
    } catch (...) {
      g_building = nullptr;
      throw;
    }
    g_building = nullptr;
  }
};

Harness::Harness(std::vector<std::string> plugin_dirs) : impl_(std::make_unique<Impl>()) {
  if (plugin_dirs.empty()) plugin_dirs.push_back(default_plugin_dir());
  impl_->loader.load_directories(plugin_dirs);
  impl_->loader.add_builtin(&inject_descriptor());
  impl_->loader.add_builtin(&capture_descriptor());
  core::DaemonSettings settings;
  settings.admin_listen = "off";
  settings.data_dir = impl_->data_dir.path();
  impl_->runtime = std::make_unique<core::Runtime>(impl_->loader, impl_->registry, impl_->http, settings);
}

Harness::~Harness() {
  if (impl_->runtime) impl_->runtime->stop();
  impl_->runtime.reset();
  std::lock_guard lock(impl_->channels.mutex);
  for (auto& [name, ch] : impl_->channels.inject) {
    std::deque<Event> left;
    {
      std::lock_guard l(ch->mutex);
      left.swap(ch->pending);
    }
    release_all(left, AckStatus::Failed);
  }
}

const std::string& Harness::data_dir() const {
  return impl_->data_dir.path();
}

void Harness::add_plugin(const PluginDescriptor* descriptor) {
  impl_->loader.add_builtin(descriptor);
}

void Harness::start(const std::string& yaml) {
  auto cfg = impl_->parse(yaml);
  impl_->building_with([&] { impl_->runtime->start(std::move(*cfg)); });
}

void Harness::reload(const std::string& yaml) {
  auto cfg = impl_->parse(yaml);
  impl_->building_with([&] { impl_->runtime->reload(std::move(*cfg)); });
}

Json Harness::status() const {
  return impl_->runtime->status();
}

void Harness::inject(const std::string& name, std::vector<Event> events) {
  auto ch = impl_->channels.in(name);
  std::unique_lock lock(ch->mutex);
  std::weak_ptr<InjectChannel> weak = ch;
  for (auto& e : events) {
    const std::size_t idx = ch->statuses.size();
    ch->statuses.emplace_back();
    AckHandle mine = Ack::create([weak, idx](AckStatus s) {
      if (auto c = weak.lock()) {
        {
          std::lock_guard l(c->mutex);
          c->statuses[idx] = s;
          ++c->completed;
        }
        c->cv.notify_all();
      }
    });
    if (e.ack) {
      std::vector<AckHandle> both;
      both.push_back(std::move(e.ack));
      both.push_back(std::move(mine));
      e.ack = Ack::join(std::move(both));
    } else {
      e.ack = std::move(mine);
    }
    ch->pending.push_back(std::move(e));
  }
  ch->injected += events.size();
  const std::size_t target = ch->injected;
  ch->cv.notify_all();
  // Blocks while the pipeline is full: until the source has emitted them.
  ch->cv.wait(lock, [&] { return ch->handled >= target || !ch->source_attached; });
}

void Harness::inject_json(const std::string& name, const std::vector<std::string>& json_texts) {
  std::vector<Event> events;
  events.reserve(json_texts.size());
  for (const auto& t : json_texts) events.emplace_back(t);
  inject(name, std::move(events));
}

void Harness::close(const std::string& name) {
  auto ch = impl_->channels.in(name);
  {
    std::lock_guard lock(ch->mutex);
    ch->closed = true;
  }
  ch->cv.notify_all();
}

bool Harness::wait_idle(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  std::vector<std::shared_ptr<InjectChannel>> chans;
  {
    std::lock_guard lock(impl_->channels.mutex);
    for (auto& [n, c] : impl_->channels.inject) chans.push_back(c);
  }
  bool all_finite_closed = !chans.empty();
  for (auto& c : chans) {
    std::unique_lock lock(c->mutex);
    if (!c->cv.wait_until(lock, until,
                          [&] { return c->pending.empty() && c->completed == c->statuses.size(); }))
      return false;
    all_finite_closed = all_finite_closed && c->finite && c->closed;
  }
  if (all_finite_closed) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    return impl_->runtime->wait_finished(std::max(left, std::chrono::milliseconds(0)));
  }
  return true;
}

void Harness::stop(std::chrono::milliseconds deadline) {
  // Each pipeline's own shutdown_timeout bounds its drain.
  (void)deadline;
  impl_->runtime->stop();
}

std::vector<Event> Harness::captured(const std::string& name) const {
  auto ch = impl_->channels.out(name);
  std::lock_guard lock(ch->mutex);
  return ch->events;
}

std::size_t Harness::max_in_flight(const std::string& name) const {
  auto ch = impl_->channels.out(name);
  std::lock_guard lock(ch->mutex);
  return ch->max_in_flight;
}

bool Harness::wait_captured(const std::string& name, std::size_t n, std::chrono::milliseconds timeout) const {
  auto ch = impl_->channels.out(name);
  std::unique_lock lock(ch->mutex);
  return ch->cv.wait_for(lock, timeout, [&] { return ch->events.size() >= n; });
}

std::vector<AckStatus> Harness::ack_statuses(const std::string& inject_name) const {
  auto ch = impl_->channels.in(inject_name);
  std::lock_guard lock(ch->mutex);
  std::vector<AckStatus> out;
  for (const auto& s : ch->statuses)
    if (s) out.push_back(*s);
  return out;
}

std::string Harness::metrics_text() const {
  return impl_->registry.render_prometheus();
}

}  // namespace sluice::testing
