// The `basic` plugin family: generate, stdin, stdout, null, filter, remap.
#include "plugins.hpp"

namespace {
sluice::PluginDescriptor entry(sluice::PluginKind kind, const char* name, const char* description, const char* docs,
                               const sluice::Schema& (*schema)(),
                               sluice::Plugin* (*create)(sluice::PluginContext&, const sluice::Config&),
                               sluice::ConfigCheck check) {
  return {sizeof(sluice::PluginDescriptor), kind, name, description, docs, schema, create,
          [](sluice::Plugin* p) noexcept { delete p; }, check};
}
using K = sluice::PluginKind;
namespace b = sluice_basic;
}  // namespace

SLUICE_PLUGIN_LIBRARY("basic",
                      entry(K::Source, "generate", "Events from a template: counts, rates, random fields.",
                            b::generate_docs, &b::generate_schema, &b::make_generate, &b::check_generate),
                      entry(K::Source, "stdin", "Lines or NDJSON from standard input.", b::stdin_docs,
                            &b::stdin_schema, &b::make_stdin, nullptr),
                      entry(K::Sink, "stdout", "JSON lines or a line template to standard output.", b::stdout_docs,
                            &b::stdout_schema, &b::make_stdout, &b::check_stdout),
                      entry(K::Sink, "null", "Counts and discards events.", b::null_docs, &b::null_schema,
                            &b::make_null, nullptr),
                      entry(K::Transform, "filter", "Keeps or drops events by conditions on fields.", b::filter_docs,
                            &b::filter_schema, &b::make_filter, &b::check_filter),
                      entry(K::Transform, "remap", "Sets, renames, deletes and copies fields and metadata.",
                            b::remap_docs, &b::remap_schema, &b::make_remap, &b::check_remap))
