#pragma once
// Process-wide logging: text or JSON lines on stderr, one level for all.
#include <memory>
#include <string>

#include "sluice/log.hpp"

namespace sluice::core {

enum class LogFormat { Text, Json };

/** Sets level and format for every logger (thread-safe; applies immediately). */
void configure_logging(LogLevel level, LogFormat format);
/** A logger tagged with @p component (e.g. "main", "clicks.sink.kafka"). */
std::shared_ptr<Logger> make_logger(std::string component);

}  // namespace sluice::core
