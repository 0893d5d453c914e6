#pragma once
// YAML option values as JSON values, for plugins whose options carry event data.
#include <sluice/sdk.hpp>

namespace sluice_basic {

/** Converts a YAML node: plain scalars become numbers / bools / null when they read as such, else strings. */
sluice::Json yaml_to_json(const YAML::Node& node);

}  // namespace sluice_basic
