// `sluice run`: the daemon. Signals are blocked in every thread and taken
// synchronously here with sigtimedwait, so a handler never runs in the
// middle of a plugin's code and reload/stop happen on one thread.
#include <signal.h>

#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <iostream>
#include <thread>

#include "admin.hpp"
#include "app/commands.hpp"
#include "config/pipeline_config.hpp"
#include "http/http_servers.hpp"
#include "logging.hpp"
#include "metrics_registry.hpp"
#include "runtime/runtime.hpp"
#include "sluice/secret.hpp"
#include "sluice/version.hpp"

namespace sluice::app {
namespace {

/** Sent by the daemon to itself when every pipeline has finished (never acted on alone). */
constexpr int kFinishedSignal = SIGUSR2;

sigset_t daemon_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, kFinishedSignal);
  return set;
}

/** Waits up to @p timeout for one of @p set; 0 on timeout. */
int wait_signal(const sigset_t& set, std::chrono::milliseconds timeout) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  ts.tv_nsec = static_cast<long>((timeout.count() % 1000) * 1000000);
  for (;;) {
    const int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig >= 0) return sig;
    if (errno == EAGAIN) return 0;
    if (errno != EINTR) return 0;
  }
}

/** SIGHUP. Nothing may escape it: a bad file is refused and the running pipelines keep running. */
void reload(const CliOptions& opts, const core::PluginLoader& loader, core::Runtime& runtime, Logger& log,
            std::size_t& pipelines) noexcept {
  try {
    log.info("SIGHUP: reloading ", opts.args.size(),
             opts.args.size() == 1 ? " pipeline file" : " pipeline files");
    core::Diagnostics diags;
    auto set = core::load_config(opts.args, loader, diags);
    if (!set || !diags.empty()) {
      for (const auto& d : diags.items()) log.error(d.format());
      log.error("reload refused: ", diags.items().size(), diags.items().size() == 1 ? " error" : " errors",
                "; the running configuration is kept");
    } else {
      const std::size_t n = set->pipelines.size();
      try {
        runtime.reload(std::move(*set));
        pipelines = n;
        log.info("reload done: ", n, n == 1 ? " pipeline" : " pipelines");
      } catch (const std::exception& e) {
        log.error("reload failed: ", e.what(), "; the running configuration is kept");
      }
    }
    runtime.reopen_sinks();
  } catch (const std::exception& e) {
    log.error("reload refused: ", e.what(), "; the running configuration is kept");
  } catch (...) {
    log.error("reload refused; the running configuration is kept");
  }
}

/**
 * The exit status of a run that ended by itself (every pipeline finished): a failure when a
 * source failed (a supervisor's Restart=on-failure must see it) or fewer events were delivered
 * than read, with the counts in the log.
 */
int finished_run_status(const core::Runtime::Summary& s, Logger& log) {
  std::string names;
  for (const auto& n : s.failed_sources) names += (names.empty() ? "'" : ", '") + n + "'";
  if (!s.failed_sources.empty() && s.failed_sources.size() == s.pipelines) {
    log.error("every pipeline failed (source failed in ", names, "); exiting with status ", exit_failure);
    return exit_failure;
  }
  if (!s.failed_sources.empty()) {
    log.error("source failed in ", names, ": the run did not read all its input; exiting with status ",
              exit_failure);
    return exit_failure;
  }
  if (s.dead_lettered + s.failed > 0) {
    log.error("read ", s.read, " event(s) but not all were delivered: ", s.dead_lettered, " dead-lettered, ",
              s.failed, " failed; exiting with status ", exit_failure);
    return exit_failure;
  }
  log.info("read ", s.read, " event(s), all delivered");
  return exit_ok;
}

}  // namespace

int run_command(const CliOptions& opts) {
  // Before any thread exists, so that every thread inherits the mask.
  const sigset_t signals = daemon_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A peer closing a socket must not kill the daemon; writes report EPIPE instead.
  signal(SIGPIPE, SIG_IGN);

  auto settings = load_daemon_settings(opts, std::cerr);
  if (!settings) return exit_usage;
  auto log = core::make_logger("main");
  core::PluginLoader loader;
  if (!load_plugins(opts, *settings, loader, std::cerr)) return exit_usage;
  core::Diagnostics diags;
  auto set = core::load_config(opts.args, loader, diags);
  if (!set || !diags.empty()) {
    std::cerr << diags.format();
    return exit_usage;
  }
  std::size_t pipelines = set->pipelines.size();
  log->info("sluice ", sluice::version, " starting: ", loader.all().size(), " plugins, ", pipelines,
            pipelines == 1 ? " pipeline" : " pipelines");

  core::MetricsRegistry metrics;
  core::HttpServersImpl http;
  core::Runtime runtime(loader, metrics, http, *settings);
  std::unique_ptr<core::AdminEndpoint> admin;
  if (!settings->admin_listen.empty() && settings->admin_listen != "off") {
    try {
      admin = std::make_unique<core::AdminEndpoint>(http, settings->admin_listen, runtime, metrics, loader);
    } catch (const std::exception& e) {
      log->error("admin endpoint: ", e.what());
      return exit_failure;
    }
    log->info("admin endpoint on http://", admin->address(), " (/metrics /health /ready /status)");
  }

  try {
    runtime.start(std::move(*set));
  } catch (const EnvironmentError& e) {
    // A secret's variable or file is missing: the config cannot work here, as if invalid.
    log->error("start failed: ", e.what());
    runtime.stop();
    return exit_usage;
  } catch (const std::exception& e) {
    log->error("start failed: ", e.what());
    runtime.stop();
    return exit_failure;
  }
  log->info("ready");

  // A run of finite sources ends as soon as its last event is acknowledged rather than at the
  // next 100 ms tick of the loop below: this thread wakes the loop, which still decides.
  std::atomic<bool> watch_stop{false};
  const pthread_t main_thread = pthread_self();
  std::thread finish_watch([&] {
    while (!watch_stop.load()) {
      if (runtime.wait_finished(std::chrono::milliseconds(100))) {
        pthread_kill(main_thread, kFinishedSignal);
        return;
      }
    }
  });

  int exit_code = exit_ok;
  for (;;) {
    const int sig = wait_signal(signals, std::chrono::milliseconds(100));
    if (sig == SIGTERM || sig == SIGINT) {
      log->info(sig == SIGTERM ? "SIGTERM" : "SIGINT", ": stopping sources and draining");
      break;
    }
    if (sig == SIGHUP) {
      reload(opts, loader, runtime, *log, pipelines);
      continue;
    }
    // A run of finite sources ends by itself once everything is delivered.
    if (pipelines > 0 && runtime.finished()) {
      log->info("every source ended and every event is acknowledged");
      exit_code = finished_run_status(runtime.summary(), *log);
      break;
    }
  }
  watch_stop = true;
  finish_watch.join();
  try {
    runtime.stop();
  } catch (const std::exception& e) {
    log->error("stop: ", e.what());
    exit_code = exit_failure;
  }
  admin.reset();
  log->info("stopped");
  return exit_code;
}

}  // namespace sluice::app
