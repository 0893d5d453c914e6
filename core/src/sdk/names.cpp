// Names of SDK enums, for logs, errors and `sluice plugins`.
#include <cctype>
#include <string_view>

#include "sluice/log.hpp"
#include "sluice/plugin.hpp"

namespace sluice {

const char* to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::Trace:
      return "trace";
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Info:
      return "info";
    case LogLevel::Warn:
      return "warn";
    case LogLevel::Error:
      return "error";
  }
  return "unknown";
}

bool parse_log_level(std::string_view text, LogLevel& out) noexcept {
  char s[8] = {};
  if (text.size() >= sizeof(s)) return false;
  for (std::size_t i = 0; i < text.size(); ++i)
    s[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
  const std::string_view v(s, text.size());
  if (v == "trace")
    out = LogLevel::Trace;
  else if (v == "debug")
    out = LogLevel::Debug;
  else if (v == "info")
    out = LogLevel::Info;
  else if (v == "warn" || v == "warning")
    out = LogLevel::Warn;
  else if (v == "error")
    out = LogLevel::Error;
  else
    return false;
  return true;
}

const char* to_string(PluginKind kind) noexcept {
  switch (kind) {
    case PluginKind::Source:
      return "source";
    case PluginKind::Transform:
      return "transform";
    case PluginKind::Sink:
      return "sink";
    case PluginKind::Service:
      return "service";
    case PluginKind::Resource:
      return "resource";
  }
  return "unknown";
}

}  // namespace sluice
