// Text or JSON log lines on stderr. The level is an atomic so disabled log
// calls cost one load; enabled lines are written with one write per line
// under a mutex so lines of different threads never interleave.
#include "logging.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>

#include <nlohmann/json.hpp>

namespace sluice::core {

namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::Info)};
std::atomic<int> g_format{static_cast<int>(LogFormat::Text)};
std::mutex g_write_mutex;

/** "2026-11-24T05:43:58.123Z" */
std::string utc_timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

const char* upper_level(LogLevel level) {
  switch (level) {
    case LogLevel::Trace:
      return "TRACE";
    case LogLevel::Debug:
      return "DEBUG";
    case LogLevel::Info:
      return "INFO ";
    case LogLevel::Warn:
      return "WARN ";
    case LogLevel::Error:
      return "ERROR";
  }
  return "?    ";
}

void write_all(const std::string& line) {
  std::lock_guard lock(g_write_mutex);
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere left to report a failing stderr
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

class StderrLogger final : public Logger {
 public:
  explicit StderrLogger(std::string component) : component_(std::move(component)) {}

  bool enabled(LogLevel level) const noexcept override {
    return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
  }

  void write(LogLevel level, std::string_view message) override {
    if (!enabled(level)) return;
    std::string line;
    if (static_cast<LogFormat>(g_format.load(std::memory_order_relaxed)) == LogFormat::Json) {
      nlohmann::json j = {{"ts", utc_timestamp()},
                          {"level", to_string(level)},
                          {"component", component_},
                          {"msg", std::string(message)}};
      line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
      line.reserve(40 + component_.size() + message.size());
      line += utc_timestamp();
      line += ' ';
      line += upper_level(level);
      line += " [";
      line += component_;
      line += "] ";
      line += message;
    }
    line += '\n';
    write_all(line);
  }

 private:
  std::string component_;
};

}  // namespace

void configure_logging(LogLevel level, LogFormat format) {
  g_level.store(static_cast<int>(level), std::memory_order_relaxed);
  g_format.store(static_cast<int>(format), std::memory_order_relaxed);
}

std::shared_ptr<Logger> make_logger(std::string component) {
  return std::make_shared<StderrLogger>(std::move(component));
}

}  // namespace sluice::core
