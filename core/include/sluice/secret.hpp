#pragma once
/**
 * @file secret.hpp
 * @brief One way to take a secret (a token, a password) from a config: the
 * value itself (`token: ${TOKEN}`), an environment variable (`token_env: TOKEN`)
 * or a file (`token_file: /run/secrets/token`, a trailing newline ignored).
 *
 * A plugin declares the three options with secret_options(), checks the
 * config with check_secret() in its factory-side check, and reads the value
 * with read_secret() when it is created. The value is never printed.
 */
#include <stdexcept>
#include <string>

#include "sluice/config.hpp"
#include "sluice/plugin.hpp"

namespace sluice {

/**
 * Thrown when a plugin is created and the machine lacks what its valid config names: a
 * secret's environment variable is unset or empty, its file is missing or unreadable.
 * Nothing will change by waiting, so `sluice run` exits 2 (as for a config validation
 * refuses) instead of 1, and a supervisor's `Restart=on-failure` does not loop on it.
 */
class EnvironmentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  ~EnvironmentError() override;
};

/** Declares `NAME` (secret), `NAME_env` and `NAME_file` on @p builder; @p what says what it holds. */
SchemaBuilder& secret_options(SchemaBuilder& builder, const std::string& name, const std::string& what);

/**
 * Reports to @p issues unless exactly one of `NAME`, `NAME_env`, `NAME_file` is set
 * (or none of them, when not @p required), or when the one set is empty.
 */
void check_secret(const Config& config, const std::string& name, ConfigIssues& issues, bool required = true);

/** True when one of `NAME`, `NAME_env`, `NAME_file` is set. */
bool has_secret(const Config& config, const std::string& name);

/**
 * The secret's value. Throws EnvironmentError starting with the option's
 * `file:line:col` when the variable is unset or empty, the file cannot be read,
 * or the value is empty. The message never contains the value.
 */
std::string read_secret(const Config& config, const std::string& name);

}  // namespace sluice
