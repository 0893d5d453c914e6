#pragma once
// The basic family's plugins: factories, factory-side checks, schema tables and docs.
#include <sluice/sdk.hpp>

#include "generate.hpp"

namespace sluice_basic {
#define SLUICE_BASIC_PLUGIN(NAME)                                                  \
  const sluice::Schema& NAME##_schema();                                          \
  extern const char* const NAME##_docs;                                           \
  sluice::Plugin* make_##NAME(sluice::PluginContext& ctx, const sluice::Config& cfg); \
  void check_##NAME(const sluice::Config& cfg, sluice::ConfigIssues& issues);
SLUICE_BASIC_PLUGIN(stdin)
SLUICE_BASIC_PLUGIN(stdout)
SLUICE_BASIC_PLUGIN(null)
SLUICE_BASIC_PLUGIN(filter)
SLUICE_BASIC_PLUGIN(remap)
#undef SLUICE_BASIC_PLUGIN
}  // namespace sluice_basic
