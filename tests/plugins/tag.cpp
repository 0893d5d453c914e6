// Transform `tag` for the `sluice test` tests: sets `field` to `value` on
// every event, drops events whose `drop` field is true, and with `hold: true`
// keeps every event until flush() (as an aggregator does).
#include "sluice/plugin.hpp"
#include "sluice/template.hpp"

namespace {

class Tag : public sluice::Transform {
 public:
  Tag(sluice::PluginContext&, const sluice::Config& config)
      : field_(*sluice::FieldPath::parse(config.str("field"))),
        value_(config.str("value")),
        hold_(config.boolean("hold")) {}

  void process(sluice::Batch& batch) override {
    sluice::Batch keep;
    for (auto& e : batch) {
      if (e.parse() && e.fields().value("drop", false)) continue;
      field_.set(e, value_);
      (hold_ ? held_ : keep).push_back(std::move(e));
    }
    batch = std::move(keep);
  }
  void flush(sluice::Batch& out) override {
    for (auto& e : held_) out.push_back(std::move(e));
    held_.clear();
  }

 private:
  sluice::FieldPath field_;
  std::string value_;
  bool hold_;
  sluice::Batch held_;
};

const sluice::Schema& schema() {
  static const sluice::Schema s = sluice::SchemaBuilder()
                                      .option("field", sluice::OptionType::Field)
                                      .def("tag")
                                      .doc("Field to set.")
                                      .option("value", sluice::OptionType::String)
                                      .def("tagged")
                                      .doc("Value to set it to.")
                                      .option("hold", sluice::OptionType::Bool)
                                      .def("false")
                                      .doc("Keep events until flush.")
                                      .build();
  return s;
}

}  // namespace

SLUICE_PLUGIN_LIBRARY("tag",
                      sluice::describe<Tag>(sluice::PluginKind::Transform, "tag",
                                            "Test transform: sets a field, drops events with drop: true.",
                                            "Test-only transform used by the `sluice test` tests.", &schema))
