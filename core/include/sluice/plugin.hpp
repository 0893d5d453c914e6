#pragma once
/**
 * @file plugin.hpp
 * @brief Plugin interfaces (Source, Transform, Sink, Service, Resource), the
 * context each receives, and the descriptor a plugin library exports.
 *
 * A plugin library exports one C symbol, `sluice_plugin_library`, returning a
 * LibraryDescriptor. The loader reads `abi_version`, `struct_size` and
 * `build_id` before anything else and refuses the library on a mismatch.
 * Use SLUICE_PLUGIN_LIBRARY to define it.
 */
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "sluice/config.hpp"
#include "sluice/event.hpp"
#include "sluice/http.hpp"
#include "sluice/log.hpp"
#include "sluice/metrics.hpp"
#include "sluice/version.hpp"

namespace sluice {

/** Base of every plugin instance. */
class Plugin {
 public:
  virtual ~Plugin() = default;
};

/**
 * A shared object declared under `resources:` (a Kafka cluster, a search
 * index) and looked up by name by the plugins that use it.
 */
class Resource : public Plugin {
 public:
  /** Called once every plugin is created, before sources start. */
  virtual void start() {}
  /** Called after every plugin using it has stopped. */
  virtual void stop() {}
  /** Extra facts for /status (e.g. an embedded broker's bootstrap address). */
  virtual Json status() const { return Json::object(); }
};

/** What every plugin receives at creation. Valid for the plugin's whole life. */
class PluginContext {
 public:
  virtual ~PluginContext() = default;
  /** Pipeline name ("" for resources and services). */
  virtual const std::string& pipeline() const = 0;
  /** Component id, e.g. "clicks.sink.kafka" — used in logs and metric labels. */
  virtual const std::string& id() const = 0;
  virtual Logger& log() = 0;
  virtual Metrics& metrics() = 0;
  virtual HttpServers& http() = 0;
  /** Daemon data directory (from conf/sluice.yaml), created if missing. */
  virtual const std::string& data_dir() const = 0;
  /** True once the daemon is shutting down or the pipeline is being replaced. */
  virtual bool stopping() const noexcept = 0;
  /** Sleeps up to @p d; returns early (true) when stopping. */
  virtual bool wait_stop(std::chrono::milliseconds d) const = 0;
  /**
   * The resource named @p name. Throws std::runtime_error naming the resource
   * when it does not exist. Plugins dynamic_cast to the type they expect.
   */
  virtual std::shared_ptr<Resource> resource(const std::string& name) = 0;
  /**
   * Sends @p event to the pipeline's dead-letter sink with @p reason attached
   * (meta.error). Its acknowledgement completes as DeadLettered once the
   * dead-letter sink accepted it, or Failed when that sink refuses it too
   * (logged and counted).
   */
  virtual void dead_letter(Event event, std::string reason) = 0;
  /**
   * Reports why the component cannot do its job right now ("no Elasticsearch host
   * answers: connection refused"); an empty text clears it. While set, the pipeline
   * is unhealthy on /health and the text is shown there and on /status. Thread-safe.
   */
  virtual void set_problem(std::string problem) { (void)problem; }
};

/** Result of a non-blocking emit. */
enum class EmitResult {
  Accepted,  ///< the batch is in the pipeline
  Full,      ///< queues stayed full for the whole timeout; the batch was not taken
  Stopping,  ///< the pipeline is stopping; the batch was not taken
};

/** What a source receives in run(). */
class SourceContext : public PluginContext {
 public:
  /**
   * Runs @p batch through the transforms and hands it to the sinks, waiting
   * while queues are full (the way a pull source is slowed down). Returns
   * false when the pipeline is stopping; the batch was then not taken and its
   * events' acknowledgements are left to the caller.
   */
  virtual bool emit(Batch& batch) = 0;
  /**
   * Same as emit() but waits at most @p timeout for room (push sources: tell
   * the client to come back later on Full). On Full or Stopping the batch is
   * left untouched.
   */
  virtual EmitResult try_emit(Batch& batch, std::chrono::milliseconds timeout) = 0;
};

/** Produces events. run() is called on a thread of its own. */
class Source : public Plugin {
 public:
  /**
   * Produces events until stopping() or until the input ends (a finite
   * source returns; the pipeline then drains and completes).
   */
  virtual void run(SourceContext& ctx) = 0;
  /** Called from another thread when stopping; unblock run() (stopping() is already true). */
  virtual void stop() {}
};

/**
 * Changes, drops, splits or holds events. process() is called with the
 * runtime's guarantee that no two calls on one instance overlap (a mutex per
 * instance), so a transform may keep state without locks of its own.
 * Removing an event from the batch completes its acknowledgement as
 * Delivered; a transform that holds events keeps them (and their acks) and
 * emits them from tick() or flush(); merged events carry Ack::join() of the
 * inputs' handles.
 */
class Transform : public Plugin {
 public:
  /** Changes @p batch in place: drop, edit, append. */
  virtual void process(Batch& batch) = 0;
  /** How often tick() should run; zero: never. */
  virtual std::chrono::milliseconds tick_interval() const { return std::chrono::milliseconds{0}; }
  /** Appends held events that are due to @p out. */
  virtual void tick(Batch& out) { (void)out; }
  /** Appends every held event to @p out (shutdown, reload). */
  virtual void flush(Batch& out) { (void)out; }
};

/** A sink's verdict on an event or batch. */
enum class Outcome : std::uint8_t {
  Ok,     ///< durably accepted
  Retry,  ///< temporary failure: the core retries with backoff, then dead-letters
  Error,  ///< permanent failure: the core dead-letters at once
  /**
   * The destination cannot take it now (down, overloaded, refusing credentials), the
   * event itself is fine: the core retries with backoff for as long as it takes, never
   * counting it against `retry_max_attempts` nor dead-lettering it; at the hard stop it
   * fails (not acknowledged, so an at-least-once source delivers it again).
   */
  Unavailable,
};

/** Verdict on one write() call: for the whole batch, or per event. */
struct WriteResult {
  Outcome outcome = Outcome::Ok;  ///< for the whole batch when per_event is empty
  std::string reason;
  /** When not empty: one entry per event of the batch, in order. */
  std::vector<std::pair<Outcome, std::string>> per_event;

  static WriteResult ok() { return {}; }
  static WriteResult retry(std::string why) { return {Outcome::Retry, std::move(why), {}}; }
  static WriteResult error(std::string why) { return {Outcome::Error, std::move(why), {}}; }
  static WriteResult unavailable(std::string why) { return {Outcome::Unavailable, std::move(why), {}}; }
};

/** The verdict of an asynchronous write (Sink::write_async); called once, from any thread. */
using WriteCompletion = std::function<void(WriteResult)>;

/**
 * Writes events out. write() returns only once the events it calls Ok are
 * durably accepted (fsynced as configured, delivery-reported, bulk-indexed).
 * With `concurrency: N` the core calls write() from N threads at once;
 * otherwise calls never overlap.
 *
 * A sink whose client reports completions by itself (Kafka's delivery reports)
 * can say so with asynchronous(): the core then calls write_async() from one
 * thread, with up to `concurrency` writes in flight, and acknowledges events on
 * the thread that completes them; nobody waits for a write. Failed writes come
 * back to the core's thread, which retries them (with write()) or dead-letters them.
 */
class Sink : public Plugin {
 public:
  virtual WriteResult write(Batch& batch) = 0;
  /** True when write_async() is implemented (asked once, before the first write). */
  virtual bool asynchronous() const { return false; }
  /**
   * Starts writing @p batch and returns; @p done gets the verdict, exactly once, from any
   * thread (not necessarily before this returns). The core keeps @p batch alive and
   * unchanged until then. Must not throw once it has started; a throw before means
   * nothing was written and @p done will not be called.
   */
  virtual void write_async(Batch& batch, WriteCompletion done) { done(write(batch)); }
  /** Called once after the last write on shutdown; flush buffers within the deadline. */
  virtual void flush(std::chrono::milliseconds deadline) { (void)deadline; }
  /** SIGHUP: reopen files (logrotate). */
  virtual void reopen() {}
};

/** A long-running service (e.g. the search page). */
class Service : public Plugin {
 public:
  virtual void start() = 0;
  virtual void stop() = 0;
  /** True when serving (for /ready). */
  virtual bool ready() const { return true; }
};

/**
 * Where a plugin's factory-side check (PluginDescriptor::check) reports what is
 * wrong with a config. The host turns each report into a
 * `file:line:col: key path: message` diagnostic, the same one for
 * `sluice validate`, `sluice run` and a reload, which all refuse the config.
 */
class ConfigIssues {
 public:
  virtual ~ConfigIssues() = default;
  /**
   * Reports that @p key of @p at (the map @p at itself when empty) is wrong;
   * @p message says why and what is expected. @p at is the checked Config or one
   * of its child() / children().
   */
  virtual void error(const Config& at, const std::string& key, std::string message) = 0;
  /**
   * Claims @p what for this component, e.g. "route POST /clicks on 0.0.0.0:5000":
   * a second claim of the same text by any component of the run (every file and
   * pipeline) is an error at @p key of the second, naming the first.
   */
  virtual void claim(const Config& at, const std::string& key, std::string what) = 0;
};

/**
 * A factory-side check: every rule of a config that needs nothing from the
 * outside world (cross-field rules, regexes, addresses, templates). It gets the
 * config validated against the schema, defaults filled, and reports to
 * @p issues; it must not throw (a throw is reported as an error of the
 * component). The constructor then only acquires resources.
 */
using ConfigCheck = void (*)(const Config& config, ConfigIssues& issues);

/** Kinds of plugins. */
enum class PluginKind : std::uint32_t { Source = 1, Transform = 2, Sink = 3, Service = 4, Resource = 5 };
const char* to_string(PluginKind kind) noexcept;

/** One plugin of a library. */
struct PluginDescriptor {
  std::uint32_t struct_size;
  PluginKind kind;
  const char* name;         ///< name used in YAML `type:`
  const char* description;  ///< one line
  const char* docs;         ///< Markdown: longer documentation, examples
  const Schema& (*schema)();
  /**
   * Creates an instance from a config that passed check(); throws std::exception
   * with a clear message when a resource cannot be acquired.
   */
  Plugin* (*create)(PluginContext& ctx, const Config& config);
  void (*destroy)(Plugin* instance) noexcept;
  /** Called by validate, run and reload before anything is created; nullptr: nothing to check. */
  ConfigCheck check;
};

/** What `sluice_plugin_library` returns. Field order of the first three is frozen forever. */
struct LibraryDescriptor {
  std::uint32_t abi_version;  ///< SLUICE_ABI_VERSION the library was built with
  std::uint32_t struct_size;  ///< sizeof(LibraryDescriptor)
  const char* build_id;       ///< SLUICE_BUILD_ID the library was built with
  const char* name;           ///< library (family) name
  std::uint32_t plugin_count;
  const PluginDescriptor* plugins;
};

/** True when @p T has `static void check(const Config&, ConfigIssues&)`. */
template <typename T>
concept HasConfigCheck = requires(const Config& config, ConfigIssues& issues) {
  T::check(config, issues);
};

/**
 * Helper: a PluginDescriptor for class @p T constructible as T(PluginContext&, const Config&);
 * its static `T::check(const Config&, ConfigIssues&)`, when it has one, becomes the descriptor's check.
 */
template <typename T>
PluginDescriptor describe(PluginKind kind, const char* name, const char* description, const char* docs,
                          const Schema& (*schema)()) {
  ConfigCheck check = nullptr;
  if constexpr (HasConfigCheck<T>) check = &T::check;
  return PluginDescriptor{
      sizeof(PluginDescriptor),
      kind,
      name,
      description,
      docs,
      schema,
      [](PluginContext& ctx, const Config& config) -> Plugin* { return new T(ctx, config); },
      [](Plugin* p) noexcept { delete p; },
      check,
  };
}

}  // namespace sluice

/** The entry symbol's name, as the loader looks it up. */
#define SLUICE_ENTRY_SYMBOL "sluice_plugin_library"

/**
 * Defines the library's entry symbol.
 * @code
 * SLUICE_PLUGIN_LIBRARY("basic",
 *     sluice::describe<Generate>(sluice::PluginKind::Source, "generate", "...", docs, &schema),
 *     sluice::describe<Null>(sluice::PluginKind::Sink, "null", "...", docs, &null_schema))
 * @endcode
 */
#define SLUICE_PLUGIN_LIBRARY(LIBNAME, ...)                                            \
  extern "C" __attribute__((visibility("default"))) const ::sluice::LibraryDescriptor* \
  sluice_plugin_library() {                                                            \
    static const ::sluice::PluginDescriptor plugins[] = {__VA_ARGS__};                 \
    static const ::sluice::LibraryDescriptor lib{                                      \
        SLUICE_ABI_VERSION,                                                            \
        sizeof(::sluice::LibraryDescriptor),                                           \
        SLUICE_BUILD_ID,                                                               \
        LIBNAME,                                                                       \
        static_cast<std::uint32_t>(sizeof(plugins) / sizeof(plugins[0])),              \
        plugins};                                                                      \
    return &lib;                                                                       \
  }
