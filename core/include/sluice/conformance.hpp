#pragma once
/**
 * @file conformance.hpp
 * @brief The checks every plugin must pass (link `sluice::testing`).
 *
 * As Vector's component compliance tests: for each plugin of the libraries
 * at a path, its descriptor is complete, its schema table is well formed,
 * its defaults are valid for their types, the first ```` ```yaml ```` example
 * of its docs (what `sluice plugins NAME` shows) is a valid configuration
 * that names it, an unknown key is refused, and an instance made from that
 * example is created, stopped and destroyed. A fragment without a source or
 * sinks is completed with `generate` and `null`; a plugin whose docs have no
 * example is configured with its defaults alone, which must then be enough.
 *
 * `sluice_add_plugin(... TESTS ...)` of an out-of-tree plugin registers them
 * as the ctest `conformance.<family>`, run by `sluice-conformance`.
 */
#include <ostream>
#include <string>
#include <vector>

namespace sluice::testing {

/** The outcome of one check on one plugin. */
struct ConformanceCheck {
  std::string plugin;   ///< "<kind> <name>", e.g. "sink file"; "" for the loading of the libraries
  std::string check;    ///< descriptor, schema, defaults, example, unknown-key, create-stop-destroy; load
  std::string problem;  ///< empty when the check passed
};

/** The checks, in the order they run on each plugin. */
const std::vector<std::string>& conformance_checks();

/**
 * Loads the plugin libraries at @p path (a `.so` or a directory of them) and
 * runs the checks on the plugins they hold — every check on every plugin, or
 * only plugin @p only_plugin ("<kind> <name>") and check @p only_check when
 * given; a library the loader refuses gives one failed `load` check. Examples
 * run in a fresh data directory, removed afterwards.
 */
std::vector<ConformanceCheck> check_conformance(const std::string& path, const std::string& only_plugin = {},
                                                const std::string& only_check = {});

/** check_conformance() with one line per check on @p out; 0 when all passed, 1 otherwise. */
int run_conformance(const std::string& path, std::ostream& out);

}  // namespace sluice::testing
