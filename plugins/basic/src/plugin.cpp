// The basic plugin library: sources generate and stdin, sinks stdout and null, transforms filter and remap.
#include "plugins.hpp"

namespace b = sluice_basic;

SLUICE_PLUGIN_LIBRARY("basic", b::generate_descriptor(), b::stdin_descriptor(), b::stdout_descriptor(),
                      b::null_descriptor(), b::filter_descriptor(), b::remap_descriptor())
