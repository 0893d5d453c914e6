// Built twice (dup_a, dup_b): both libraries define sink `dup`.
#include "sluice/plugin.hpp"

namespace {
class Dup : public sluice::Sink {
 public:
  Dup(sluice::PluginContext&, const sluice::Config&) {}
  sluice::WriteResult write(sluice::Batch&) override { return sluice::WriteResult::ok(); }
};
const sluice::Schema& schema() {
  static const sluice::Schema s;
  return s;
}
}  // namespace

SLUICE_PLUGIN_LIBRARY("dup",
                      sluice::describe<Dup>(sluice::PluginKind::Sink, "dup", "Discards events.", "", &schema))
