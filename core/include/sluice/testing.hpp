#pragma once
/**
 * @file testing.hpp
 * @brief Test harness for plugin authors (link `sluice::testing`).
 *
 * Runs real pipelines in-process, from YAML text, with the real loader,
 * validation and runtime. Two built-in test components exist only inside
 * the harness (as Fluent Bit's `lib` input/output):
 *  - source `inject`: emits the events pushed with Harness::inject(name, ...);
 *    option `name` (default "in"); `finite: true` makes it end after the
 *    first Harness::close(name); `batch_size` (default 100) caps one emit.
 *  - sink `capture`: keeps every event it receives, readable with
 *    Harness::captured(name); options `name` (default "out"), and
 *    `fail_first: N` (answer Retry to the first N writes), `unavailable_first: N`
 *    (then Unavailable to the next N, with a problem on /health), `error_when`
 *    (field reference: events where it is truthy get Error), `delay`
 *    (sleep before each write: a slow sink), `async: true` (an asynchronous
 *    sink: its writes complete one after another on a thread of its own).
 */
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "sluice/event.hpp"

namespace sluice {
struct PluginDescriptor;
}

namespace sluice::testing {

/** The plugins of the installed prefix (beside an installed libsluice-testing), else the build tree's. */
std::string default_plugin_dir();

/** A new empty directory under the system's temporary directory, removed with its contents at the end. */
class TempDir {
 public:
  /** Creates `<tmp>/<prefix>-XXXXXX`; throws std::runtime_error when it cannot. */
  explicit TempDir(const std::string& prefix = "sluice-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const noexcept { return path_; }
  /** The path of @p name inside the directory (`dir / "logs/access.log"`). */
  std::string operator/(const std::string& name) const;

 private:
  std::string path_;
};

class Harness {
 public:
  /** Loads plugins from @p plugin_dirs (default: the build tree's plugin dir). */
  explicit Harness(std::vector<std::string> plugin_dirs = {});
  ~Harness();
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  /** Registers a plugin compiled into the test itself (call before start()). */
  void add_plugin(const PluginDescriptor* descriptor);
  /** Validates and starts the pipelines of @p yaml; throws std::runtime_error with all diagnostics. */
  void start(const std::string& yaml);
  /**
   * Replaces the running pipelines with those of @p yaml as SIGHUP does:
   * unchanged pipelines keep running. Throws (old config kept) when invalid.
   */
  void reload(const std::string& yaml);
  /** The runtime's /status JSON. */
  Json status() const;
  /** Pushes events into inject source @p name (blocks while the pipeline is full). */
  void inject(const std::string& name, std::vector<Event> events);
  /** Convenience: one event per JSON text. */
  void inject_json(const std::string& name, const std::vector<std::string>& json_texts);
  /** Ends inject source @p name (a `finite: true` source then returns). */
  void close(const std::string& name);
  /**
   * Waits until every event pushed into an inject source is acknowledged and, when every inject
   * source is `finite` and closed, until every pipeline has finished; false on timeout. Only inject
   * sources are waited for: with none (a kafka or generate source alone) it returns true at once,
   * so wait for what the test checks instead (wait_captured(), a metric).
   */
  bool wait_idle(std::chrono::milliseconds timeout);
  /** Graceful stop (drain within @p deadline). */
  void stop(std::chrono::milliseconds deadline = std::chrono::milliseconds{5000});

  /** Copies of the events capture sink @p name received, in arrival order. */
  std::vector<Event> captured(const std::string& name) const;
  /** The most asynchronous writes capture sink @p name had in flight at once. */
  std::size_t max_in_flight(const std::string& name) const;
  /** Waits until capture sink @p name holds at least @p n events; false on timeout. */
  bool wait_captured(const std::string& name, std::size_t n, std::chrono::milliseconds timeout) const;
  /** Acknowledgement statuses of injected events, in injection order, once complete. */
  std::vector<AckStatus> ack_statuses(const std::string& inject_name) const;
  /** Prometheus text of the harness's metrics. */
  std::string metrics_text() const;
  /** The daemon data directory of this harness: a fresh one, removed with the harness. */
  const std::string& data_dir() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::testing
