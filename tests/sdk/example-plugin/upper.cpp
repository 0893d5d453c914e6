// Transform `upper`: upper-cases one string field. A plugin written outside sluice's tree.
#include <sluice/sdk.hpp>

#include <cctype>

namespace {

class Upper final : public sluice::Transform {
 public:
  Upper(sluice::PluginContext&, const sluice::Config& config)
      : field_(*sluice::FieldPath::parse(config.str("field"))) {}

  static const sluice::Schema& schema() {
    static const sluice::Schema s = sluice::SchemaBuilder()
                                        .option("field", sluice::OptionType::Field)
                                        .required()
                                        .doc("The string field to upper-case.")
                                        .build();
    return s;
  }

  void process(sluice::Batch& batch) override {
    for (sluice::Event& e : batch) {
      auto v = field_.get(e);
      if (!v || !v->is_string()) continue;
      std::string text = v->get<std::string>();
      for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      field_.set(e, text);
    }
  }

 private:
  sluice::FieldPath field_;
};

const char* const docs =
    "Upper-cases one string field.\n\n```yaml\ntransforms:\n  - type: upper\n    field: name\n```\n";

}  // namespace

SLUICE_PLUGIN_LIBRARY("example",
                      sluice::describe<Upper>(sluice::PluginKind::Transform, "upper",
                                              "Upper-cases one string field", docs, &Upper::schema))
