#pragma once
/**
 * @file log.hpp
 * @brief Logging interface handed to plugins. The core decides format (text or
 * JSON) and level; plugins only say what happened.
 */
#include <sstream>
#include <string>
#include <string_view>

namespace sluice {

enum class LogLevel { Trace = 0, Debug, Info, Warn, Error };

/** Parses "trace", "debug", "info", "warn", "error"; false when unknown. */
bool parse_log_level(std::string_view text, LogLevel& out) noexcept;
const char* to_string(LogLevel level) noexcept;

/** A logger bound to one component (its id is added to every line). Thread-safe. */
class Logger {
 public:
  virtual ~Logger() = default;
  virtual bool enabled(LogLevel level) const noexcept = 0;
  virtual void write(LogLevel level, std::string_view message) = 0;

  /** Logs the concatenation of @p parts (anything streamable) when @p level is enabled. */
  template <typename... Parts>
  void log(LogLevel level, const Parts&... parts) {
    if (!enabled(level)) return;
    std::ostringstream s;
    (s << ... << parts);
    write(level, s.str());
  }
  template <typename... P> void trace(const P&... p) { log(LogLevel::Trace, p...); }
  template <typename... P> void debug(const P&... p) { log(LogLevel::Debug, p...); }
  template <typename... P> void info(const P&... p) { log(LogLevel::Info, p...); }
  template <typename... P> void warn(const P&... p) { log(LogLevel::Warn, p...); }
  template <typename... P> void error(const P&... p) { log(LogLevel::Error, p...); }
};

}  // namespace sluice
