#pragma once
// The basic family's plugins, each described (sluice::describe) in its own source file.
#include <sluice/sdk.hpp>

namespace sluice_basic {
sluice::PluginDescriptor generate_descriptor();  // generate.cpp
sluice::PluginDescriptor stdin_descriptor();     // stdio.cpp
sluice::PluginDescriptor stdout_descriptor();    // stdio.cpp
sluice::PluginDescriptor null_descriptor();      // stdio.cpp
sluice::PluginDescriptor filter_descriptor();    // filter.cpp
sluice::PluginDescriptor remap_descriptor();     // remap.cpp
}  // namespace sluice_basic
