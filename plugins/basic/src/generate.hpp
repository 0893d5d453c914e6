#pragma once
#include <sluice/sdk.hpp>

namespace sluice_basic {
const sluice::Schema& generate_schema();
extern const char* const generate_docs;
/** Creates the `generate` source (defined in generate.cpp). */
sluice::Plugin* make_generate(sluice::PluginContext& ctx, const sluice::Config& cfg);
}  // namespace sluice_basic
