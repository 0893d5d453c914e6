// `sluice tap PIPELINE[.COMPONENT]`: the events passing one point of a running daemon's pipeline, as
// JSON lines on standard output, through the admin endpoint's tap sessions (admin_tap.hpp): open one,
// long-poll it, close it on the way out. Notes (what is tapped, how many were skipped) go to stderr.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <iostream>

#include <Poco/URI.h>
#include <nlohmann/json.hpp>

#include "app/admin_client.hpp"
#include "app/commands.hpp"
#include "sluice/event.hpp"

namespace sluice::app {
namespace {

using namespace std::chrono_literals;

std::atomic<bool> interrupted{false};

extern "C" void on_interrupt(int) {
  interrupted.store(true);
}

std::string encoded(const std::string& text) {
  std::string out;
  Poco::URI::encode(text, "&=+?#/", out);
  return out;
}

/** The error text of an admin answer (its JSON `error`, else the body). */
std::string reason(const AdminAnswer& a) {
  const auto j = nlohmann::json::parse(a.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"].get<std::string>();
  return "answered " + std::to_string(a.status) + ": " + safe_utf8(a.body.substr(0, 200));
}

std::uint64_t header_number(const AdminAnswer& a, const std::string& name) {
  const auto it = a.headers.find(name);
  return it == a.headers.end() ? 0 : std::strtoull(it->second.c_str(), nullptr, 10);
}

}  // namespace

int tap_command(const CliOptions& opts) {
  const std::string target = opts.args.front();
  const auto dot = target.find('.');
  const std::string pipeline = target.substr(0, dot);
  const std::string component = dot == std::string::npos ? std::string() : target.substr(dot + 1);
  if (pipeline.empty()) {
    std::cerr << "sluice tap: say which pipeline: PIPELINE[.COMPONENT]\n";
    return exit_usage;
  }
  const std::string admin = admin_address(opts);
  std::string path = "/tap?pipeline=" + encoded(pipeline);
  if (!component.empty()) path += "&component=" + encoded(component);
  if (!opts.rate.empty()) path += "&rate=" + encoded(opts.rate);
  if (opts.meta) path += "&meta=1";

  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::string id;
  try {
    const AdminAnswer opened = admin_request(admin, "POST", path);
    if (opened.status != 201) {
      std::cerr << "sluice tap: " << reason(opened) << "\n";
      return opened.status == 404 || opened.status == 400 ? exit_usage : exit_failure;
    }
    const auto j = nlohmann::json::parse(opened.body, nullptr, false);
    if (!j.is_object() || !j.contains("id")) {
      std::cerr << "sluice tap: " << admin << " did not open a tap: " << safe_utf8(opened.body) << "\n";
      return exit_failure;
    }
    id = j["id"].get<std::string>();
    std::cerr << "sluice tap: " << j.value("component", target) << " at most " << j.value("rate", 0.0)
              << " events/s (Ctrl-C to stop)" << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "sluice tap: cannot reach the admin endpoint " << admin << ": " << safe_utf8(e.what())
              << "\n";
    return exit_failure;
  }

  int status = exit_ok;
  long printed = 0;
  std::uint64_t skipped_rate = 0, skipped_lagging = 0;
  while (!interrupted.load() && (opts.limit <= 0 || printed < opts.limit)) {
    const long want = opts.limit > 0 ? std::min<long>(1000, opts.limit - printed) : 1000;
    AdminAnswer a;
    try {
      a = admin_request(admin, "GET", "/tap/" + id + "?wait=1000&max=" + std::to_string(want), 5000ms);
    } catch (const std::exception& e) {
      if (interrupted.load()) break;
      std::cerr << "sluice tap: lost the admin endpoint " << admin << ": " << safe_utf8(e.what()) << "\n";
      return exit_failure;
    }
    if (a.status != 200) {
      std::cerr << "sluice tap: " << reason(a) << "\n";
      status = exit_failure;
      break;
    }
    skipped_rate = header_number(a, "x-sluice-tap-skipped-rate");
    skipped_lagging = header_number(a, "x-sluice-tap-skipped-lagging");
    std::size_t at = 0;
    while (at < a.body.size() && (opts.limit <= 0 || printed < opts.limit)) {
      const auto nl = a.body.find('\n', at);
      const auto end = nl == std::string::npos ? a.body.size() : nl;
      std::cout.write(a.body.data() + at, static_cast<std::streamsize>(end - at)) << '\n';
      ++printed;
      at = end + 1;
    }
    std::cout.flush();
    if (!std::cout) break;  // the reader went away (`| head`)
  }
  try {
    (void)admin_request(admin, "DELETE", "/tap/" + id);
  } catch (const std::exception&) {
    // The session ends by itself once nobody polls it.
  }
  std::cerr << "sluice tap: " << printed << " event(s) printed; skipped " << skipped_rate
            << " over the rate, " << skipped_lagging << " while this reader lagged" << std::endl;
  return status;
}

}  // namespace sluice::app
