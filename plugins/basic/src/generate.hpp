#pragma once
#include <sluice/sdk.hpp>

namespace sluice_basic {
const sluice::Schema& generate_schema();
extern const char* const generate_docs;
/** Creates the `generate` source (defined in generate.cpp). */
sluice::Plugin* make_generate(sluice::PluginContext& ctx, const sluice::Config& cfg);
/** The factory-side check of its config. */
void check_generate(const sluice::Config& cfg, sluice::ConfigIssues& issues);
}  // namespace sluice_basic
