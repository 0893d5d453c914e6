#pragma once
// Daemon settings: conf/sluice.yaml.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "config/diagnostics.hpp"
#include "logging.hpp"

namespace sluice::core {

struct DaemonSettings {
  std::vector<std::string> plugin_dirs;  ///< in addition to the defaults
  std::string admin_listen = "127.0.0.1:9464";  ///< "" or "off": no admin endpoint; env SLUICE_ADMIN_LISTEN overrides
  LogLevel log_level = LogLevel::Info;
  LogFormat log_format = LogFormat::Text;
  std::string data_dir = "./data";
  std::chrono::milliseconds shutdown_timeout{30000};  ///< default drain deadline for pipelines
};

/**
 * Reads @p path (a missing file gives the defaults only when @p must_exist is
 * false), applies environment overrides, reports problems into @p diags.
 */
DaemonSettings load_settings(const std::string& path, bool must_exist, Diagnostics& diags);

}  // namespace sluice::core
