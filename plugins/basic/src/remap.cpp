// `remap` transform: set, rename, delete and copy fields, metadata included.
#include "plugins.hpp"

namespace sluice_basic {
namespace {

struct Operation {
  enum Kind { Set, Rename, Delete, Copy } kind;
  sluice::FieldPath target;                  ///< Set: field; Rename/Copy: destination; Delete: field
  std::optional<sluice::FieldPath> from;     ///< Rename/Copy
  sluice::Json value;                        ///< Set: literal value
  std::optional<sluice::Template> rendered;  ///< Set: string value with {..} references
};

sluice::FieldPath field(const std::string& text, const std::string& where) {
  std::string err;
  auto f = sluice::FieldPath::parse(text, &err);
  if (!f) throw std::runtime_error(where + ": " + err);
  return *f;
}

class Remap : public sluice::Transform {
 public:
  /** The factory-side check of its config (validate and run). */
  static void check(const sluice::Config& cfg, sluice::ConfigIssues& issues);

  Remap(sluice::PluginContext& ctx, const sluice::Config& cfg) : ctx_(ctx) {
    for (const sluice::Config& op : cfg.children("operations")) {
      if (op.has("set")) {
        for (const auto& kv : op.node("set")) {
          Operation o{Operation::Set, field(kv.first.as<std::string>(), op.where("set")), std::nullopt,
                      sluice::yaml_to_json(kv.second), std::nullopt};
          if (o.value.is_string() && o.value.get<std::string>().find('{') != std::string::npos) {
            std::string err;
            o.rendered = sluice::Template::parse(o.value.get<std::string>(), &err);
            if (!o.rendered) throw std::runtime_error(op.where("set") + ": " + err);
          }
          ops_.push_back(std::move(o));
        }
      } else if (op.has("rename") || op.has("copy")) {
        const char* key = op.has("rename") ? "rename" : "copy";
        for (const auto& kv : op.node(key))
          ops_.push_back({op.has("rename") ? Operation::Rename : Operation::Copy,
                          field(kv.second.as<std::string>(), op.where(key)),
                          field(kv.first.as<std::string>(), op.where(key)), nullptr, std::nullopt});
      } else {
        YAML::Node del = op.node("delete");
        auto add = [&](const std::string& f) {
          ops_.push_back(
              {Operation::Delete, field(f, op.where("delete")), std::nullopt, nullptr, std::nullopt});
        };
        if (del.IsSequence())
          for (const auto& f : del) add(f.as<std::string>());
        else
          add(del.as<std::string>());
      }
    }
  }

  void process(sluice::Batch& batch) override {
    std::size_t out = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      sluice::Event& e = batch[i];
      try {
        apply(e);
      } catch (const sluice::ParseError& err) {
        ctx_.dead_letter(std::move(e), std::string("remap: invalid JSON: ") + err.what());
        continue;
      }
      if (out != i) batch[out] = std::move(e);
      ++out;
    }
    batch.resize(out);
  }

 private:
  void apply(sluice::Event& e) const {
    for (const Operation& o : ops_) {
      switch (o.kind) {
        case Operation::Set:
          o.target.set(e, o.rendered ? sluice::Json(o.rendered->render(e)) : o.value);
          break;
        case Operation::Copy:
        case Operation::Rename:
          if (auto v = o.from->get(e)) {
            o.target.set(e, std::move(*v));
            if (o.kind == Operation::Rename) o.from->erase(e);
          }
          break;
        case Operation::Delete:
          o.target.erase(e);
          break;
      }
    }
  }

  sluice::PluginContext& ctx_;
  std::vector<Operation> ops_;
};

}  // namespace

const sluice::Schema& remap_schema() {
  static const sluice::Schema s =
      sluice::SchemaBuilder()
          .option("operations", sluice::OptionType::ObjectList)
          .required()
          .nested(sluice::SchemaBuilder()
                      .option("set", sluice::OptionType::Any)
                      .doc("Map of field → value; a string value may be a template (\"{meta.key}-{seq}\").")
                      .option("rename", sluice::OptionType::Any)
                      .doc("Map of from → to.")
                      .option("delete", sluice::OptionType::Any)
                      .doc("A field or a list of fields.")
                      .option("copy", sluice::OptionType::Any)
                      .doc("Map of from → to.")
                      .build())
          .doc(
              "Operations, applied in order; each is one of set, rename, delete, copy. Fields are field "
              "references, "
              "so metadata works: copy: {meta.key: user_id}, copy: {meta.header.User-Agent: agent}.")
          .build();
  return s;
}
const char* const remap_docs =
    "Edits events in place. Events whose payload is not JSON go to the dead-letter "
    "sink.\n\n```yaml\ntransforms:\n"
    "  - type: remap\n    operations:\n      - copy: {meta.key: user_id}\n      - rename: {itemId: item_id}\n"
    "      - delete: [debug]\n      - set: {source: web}\n```\n";

namespace {

void check_field(const sluice::Config& op, const std::string& key, const YAML::Node& n,
                 sluice::ConfigIssues& issues) {
  std::string err;
  if (!n.IsScalar())
    issues.error(op, key, "expected a field reference, got a " + std::string(n.IsMap() ? "map" : "list"));
  else if (!sluice::FieldPath::parse(n.Scalar(), &err))
    issues.error(op, key, "'" + n.Scalar() + "': " + err);
}

}  // namespace

void Remap::check(const sluice::Config& cfg, sluice::ConfigIssues& issues) {
  for (const sluice::Config& op : cfg.children("operations")) {
    const int given = op.has("set") + op.has("rename") + op.has("delete") + op.has("copy");
    if (given != 1) {
      issues.error(op, "", "each operation is exactly one of set, rename, delete, copy");
      continue;
    }
    for (const char* key : {"set", "rename", "copy"}) {
      if (!op.has(key)) continue;
      const YAML::Node map = op.node(key);
      if (!map.IsMap()) {
        issues.error(op, key,
                     std::string("expected a map of ") + (key[0] == 's' ? "field → value" : "from → to"));
        continue;
      }
      for (const auto& kv : map) {
        check_field(op, key, kv.first, issues);
        if (key[0] != 's') {
          check_field(op, key, kv.second, issues);
          continue;
        }
        const sluice::Json value = sluice::yaml_to_json(kv.second);
        std::string err;
        if (value.is_string() && value.get<std::string>().find('{') != std::string::npos &&
            !sluice::Template::parse(value.get<std::string>(), &err))
          issues.error(op, key, err);
      }
    }
    if (op.has("delete")) {
      const YAML::Node del = op.node("delete");
      if (del.IsSequence())
        for (const auto& f : del) check_field(op, "delete", f, issues);
      else
        check_field(op, "delete", del, issues);
    }
  }
}

sluice::PluginDescriptor remap_descriptor() {
  return sluice::describe<Remap>(sluice::PluginKind::Transform, "remap",
                                 "Sets, renames, deletes and copies fields and metadata.", remap_docs,
                                 &remap_schema);
}

}  // namespace sluice_basic
