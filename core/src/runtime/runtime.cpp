// Runtime: owns resources and pipelines, starts, reloads and stops them.
#include "runtime/runtime.hpp"

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "logging.hpp"
#include "runtime/pipeline.hpp"

namespace sluice::core {

namespace {

struct ResourceEntry {
  ResourceSpec spec;
  std::shared_ptr<StopSignal> stop = std::make_shared<StopSignal>();
  std::unique_ptr<ComponentContext> ctx;  // declared before instance: outlives it
  std::shared_ptr<Resource> instance;
  bool started = false;

  ~ResourceEntry() {
    stop->request();
    if (started && instance) {
      try {
        instance->stop();
      } catch (const std::exception& e) {
        ctx->log().error("stop failed: ", e.what());
      }
    }
    instance.reset();
  }
};

/** Stops every pipeline at once: each drains within its own deadline. */
void stop_all(const std::vector<Pipeline*>& pipelines) {
  std::vector<std::thread> threads;
  threads.reserve(pipelines.size());
  for (Pipeline* p : pipelines) threads.emplace_back([p] { p->stop(); });
  for (auto& t : threads) t.join();
}

}  // namespace

struct Runtime::Impl {
  const PluginLoader& loader;
  MetricsRegistry& metrics;
  HttpServers& http;
  DaemonSettings settings;
  RuntimeDeps deps;
  std::shared_ptr<Logger> log = make_logger("runtime");

  std::mutex control;        // one start/reload/stop at a time
  mutable std::mutex mutex;  // the maps below (status() reads them during a reload)
  std::vector<std::unique_ptr<ResourceEntry>> resources;  // in declaration order
  std::map<std::string, std::unique_ptr<Pipeline>> pipelines;
  std::atomic<bool> ready{false};

  mutable std::mutex finish_mutex;
  mutable std::condition_variable finish_cv;

  Impl(const PluginLoader& l, MetricsRegistry& m, HttpServers& h, DaemonSettings s)
      : loader(l), metrics(m), http(h), settings(std::move(s)) {
    deps.loader = &loader;
    deps.registry = &metrics;
    deps.http = &http;
    deps.data_dir = settings.data_dir;
    deps.on_finished = [this] {
      { std::lock_guard lock(finish_mutex); }
      finish_cv.notify_all();
    };
    std::error_code ec;
    if (!settings.data_dir.empty()) std::filesystem::create_directories(settings.data_dir, ec);
    if (ec) log->warn("cannot create data directory ", settings.data_dir, ": ", ec.message());
  }

  bool all_finished() const {
    std::lock_guard lock(mutex);
    for (const auto& [name, p] : pipelines)
      if (!p->finished()) return false;
    return true;
  }

  void apply(ConfigSet config);
};

void Runtime::Impl::apply(ConfigSet config) {
  // 1. Build everything new while the old config keeps running.
  std::vector<std::unique_ptr<ResourceEntry>> next_resources;
  std::vector<ResourceEntry*> fresh_resources;
  std::set<std::string> kept_resource_names;
  bool resources_changed = false;
  auto snapshot = std::make_shared<ResourceMap>();
  std::map<std::string, std::unique_ptr<Pipeline>> fresh_pipelines;
  std::set<std::string> kept_pipelines;

  {
    std::set<std::string> new_names;
    for (const auto& rs : config.resources) new_names.insert(rs.component.name);
    for (const auto& old : resources)
      if (!new_names.count(old->spec.component.name)) resources_changed = true;
  }

  try {
    for (auto& rs : config.resources) {
      const std::string& name = rs.component.name;
      auto old = std::find_if(resources.begin(), resources.end(),
                              [&](const auto& e) { return e && e->spec.component.name == name; });
      if (old != resources.end() && (*old)->spec.fingerprint == rs.fingerprint) {
        kept_resource_names.insert(name);
        (*snapshot)[name] = (*old)->instance;
        continue;
      }
      if (old != resources.end()) resources_changed = true;
      auto entry = std::make_unique<ResourceEntry>();
      entry->spec = rs;
      // A resource sees the resources declared before it.
      entry->ctx = std::make_unique<ComponentContext>("", rs.component.id, deps, entry->stop,
                                                      std::make_shared<ResourceMap>(*snapshot), nullptr);
      try {
        if (!rs.component.plugin) throw std::runtime_error("plugin not resolved");
        entry->instance = loader.create<Resource>(*rs.component.plugin, *entry->ctx, rs.component.config);
      } catch (...) {
        rethrow_with_context("resource '" + name + "' (type " + rs.component.type + "): ");
      }
      (*snapshot)[name] = entry->instance;
      fresh_resources.push_back(entry.get());
      next_resources.push_back(std::move(entry));
    }

    for (auto& ps : config.pipelines) {
      {
        std::lock_guard lock(mutex);
        auto old = pipelines.find(ps.name);
        // A changed resource may be used by any pipeline: then every pipeline restarts.
        if (old != pipelines.end() && old->second->spec().fingerprint == ps.fingerprint &&
            !resources_changed) {
          kept_pipelines.insert(ps.name);
          continue;
        }
      }
      std::string name = ps.name;  // not ps.name below: the right side is evaluated (and moves ps) first
      fresh_pipelines[name] = std::make_unique<Pipeline>(std::move(ps), deps, snapshot);
    }

    for (ResourceEntry* e : fresh_resources) {
      try {
        e->instance->start();
        e->started = true;
      } catch (const std::exception& ex) {
        throw std::runtime_error("resource '" + e->spec.component.name + "' failed to start: " + ex.what());
      }
    }
  } catch (...) {
    fresh_pipelines.clear();  // before the resources they may hold
    next_resources.clear();
    throw;
  }

  // 2. Drain and stop what is replaced or gone.
  std::vector<std::unique_ptr<Pipeline>> retired;
  {
    std::lock_guard lock(mutex);
    for (auto it = pipelines.begin(); it != pipelines.end();) {
      if (kept_pipelines.count(it->first)) {
        ++it;
      } else {
        retired.push_back(std::move(it->second));
        it = pipelines.erase(it);
      }
    }
  }
  if (!retired.empty()) {
    std::vector<Pipeline*> ptrs;
    for (auto& p : retired) {
      log->info("stopping pipeline '", p->spec().name, "'");
      ptrs.push_back(p.get());
    }
    stop_all(ptrs);
    retired.clear();
  }

  // 3. Swap resources: kept ones move over in the new order, the rest stop.
  std::vector<std::unique_ptr<ResourceEntry>> old_resources;
  {
    std::lock_guard lock(mutex);
    std::vector<std::unique_ptr<ResourceEntry>> ordered;
    for (const auto& rs : config.resources) {
      const std::string& name = rs.component.name;
      if (kept_resource_names.count(name)) {
        auto it = std::find_if(resources.begin(), resources.end(),
                               [&](const auto& e) { return e && e->spec.component.name == name; });
        ordered.push_back(std::move(*it));
      } else {
        auto it = std::find_if(next_resources.begin(), next_resources.end(),
                               [&](const auto& e) { return e && e->spec.component.name == name; });
        ordered.push_back(std::move(*it));
      }
    }
    for (auto& r : resources)
      if (r) old_resources.push_back(std::move(r));
    resources = std::move(ordered);
  }
  // Reverse order: later resources may use earlier ones.
  while (!old_resources.empty()) old_resources.pop_back();

  // 4. Start the new pipelines.
  std::vector<Pipeline*> to_start;
  {
    std::lock_guard lock(mutex);
    for (auto& [name, p] : fresh_pipelines) {
      to_start.push_back(p.get());
      pipelines[name] = std::move(p);
    }
  }
  for (Pipeline* p : to_start) p->start();
  if (!kept_pipelines.empty())
    log->info(kept_pipelines.size(), " unchanged pipeline(s) kept running, ", to_start.size(), " started");
}

Runtime::Runtime(const PluginLoader& loader, MetricsRegistry& metrics, HttpServers& http,
                 DaemonSettings settings)
    : impl_(std::make_unique<Impl>(loader, metrics, http, std::move(settings))) {}

Runtime::~Runtime() {
  stop();
}

void Runtime::start(ConfigSet config) {
  std::lock_guard control(impl_->control);
  impl_->apply(std::move(config));
  impl_->ready = true;
}

void Runtime::reload(ConfigSet config) {
  std::lock_guard control(impl_->control);
  impl_->apply(std::move(config));
  impl_->ready = true;
}

void Runtime::stop() {
  std::lock_guard control(impl_->control);
  impl_->ready = false;
  std::vector<Pipeline*> ptrs;
  {
    std::lock_guard lock(impl_->mutex);
    for (auto& [name, p] : impl_->pipelines) ptrs.push_back(p.get());
  }
  stop_all(ptrs);
  std::map<std::string, std::unique_ptr<Pipeline>> pipelines;
  std::vector<std::unique_ptr<ResourceEntry>> resources;
  {
    std::lock_guard lock(impl_->mutex);
    pipelines.swap(impl_->pipelines);
    resources.swap(impl_->resources);
  }
  pipelines.clear();
  while (!resources.empty()) resources.pop_back();
  impl_->finish_cv.notify_all();
}

void Runtime::reopen_sinks() {
  std::lock_guard lock(impl_->mutex);
  for (auto& [name, p] : impl_->pipelines) p->reopen_sinks();
}

bool Runtime::ready() const {
  return impl_->ready.load();
}

std::vector<std::pair<std::string, std::string>> Runtime::unhealthy_pipelines() const {
  std::vector<std::pair<std::string, std::string>> out;
  std::lock_guard lock(impl_->mutex);
  for (const auto& [name, p] : impl_->pipelines)
    if (std::string problem = p->health_problem(); !problem.empty())
      out.emplace_back(name, std::move(problem));
  return out;
}

Runtime::Summary Runtime::summary() const {
  Summary s;
  std::lock_guard lock(impl_->mutex);
  for (const auto& [name, p] : impl_->pipelines) {
    ++s.pipelines;
    if (p->source_failed()) s.failed_sources.push_back(name);
    const auto t = p->totals();
    s.read += t.read;
    s.dead_lettered += t.dead_lettered;
    s.failed += t.failed;
  }
  return s;
}

bool Runtime::finished() const {
  return impl_->all_finished();
}

bool Runtime::wait_finished(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->finish_mutex);
  return impl_->finish_cv.wait_for(lock, timeout, [this] { return impl_->all_finished(); });
}

std::string Runtime::attach_tap(const std::string& pipeline, const std::string& component,
                                std::shared_ptr<TapSession> session) const {
  std::lock_guard lock(impl_->mutex);
  const auto it = impl_->pipelines.find(pipeline);
  if (it == impl_->pipelines.end()) {
    std::string names;
    for (const auto& [name, p] : impl_->pipelines) names += (names.empty() ? "" : ", ") + name;
    throw std::invalid_argument("no pipeline '" + pipeline + "' runs here (pipelines: " +
                                (names.empty() ? std::string("none") : names) + ")");
  }
  return it->second->attach_tap(component, std::move(session));
}

nlohmann::json Runtime::status() const {
  using nlohmann::json;
  json j = {{"ready", ready()}, {"pipelines", json::array()}, {"resources", json::array()}};
  std::lock_guard lock(impl_->mutex);
  for (const auto& [name, p] : impl_->pipelines) j["pipelines"].push_back(p->status());
  for (const auto& r : impl_->resources) {
    json rj = {
        {"name", r->spec.component.name}, {"id", r->spec.component.id}, {"type", r->spec.component.type}};
    try {
      rj["status"] = r->instance->status();
    } catch (const std::exception& e) {
      rj["status"] = {{"error", e.what()}};
    }
    j["resources"].push_back(std::move(rj));
  }
  return j;
}

}  // namespace sluice::core
