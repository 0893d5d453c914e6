#pragma once
// What `sluice top` and `sluice tap` use to talk to a running daemon's admin endpoint.
#include <chrono>
#include <map>
#include <string>

#include "app/commands.hpp"

namespace sluice::app {

/** The admin address to use: --admin, else SLUICE_ADMIN_LISTEN (0.0.0.0 meaning this machine), else the
 * default. */
std::string admin_address(const CliOptions& opts);

/** One answer of the admin endpoint. */
struct AdminAnswer {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  ///< names lower-cased
};

/**
 * Sends @p method @p path to @p admin ("HOST:PORT") and reads the whole answer (at most 32 MiB), waiting
 * up to @p timeout for each read. Throws std::runtime_error with a printable reason when there is no answer.
 */
AdminAnswer admin_request(const std::string& admin, const std::string& method, const std::string& path,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

}  // namespace sluice::app
