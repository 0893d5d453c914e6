#pragma once
// A plugin's schema table as JSON (`sluice plugins --json`, /status) and as
// the Markdown reference (`sluice plugins --markdown`, docs/reference.md).
#include <string>

#include <nlohmann/json.hpp>

#include "loader.hpp"
#include "sluice/config.hpp"

namespace sluice::core {

/** {"options": [{name, type, default, required, secret, description, choices, min, max, options}],
 * "passthrough": [...]} */
nlohmann::json schema_json(const Schema& schema);

/** The reference section of one plugin: heading, description, options table, docs text. */
std::string plugin_markdown(const PluginDescriptor& plugin);

/** The whole reference: every plugin of @p loader, grouped by kind. */
std::string reference_markdown(const PluginLoader& loader);

}  // namespace sluice::core
