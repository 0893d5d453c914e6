// `filter` transform: keep or drop events by conditions on fields.
#include <memory>

#include <re2/re2.h>

#include "plugins.hpp"

namespace sluice_basic {
namespace {

enum class Op { Eq, Ne, Lt, Le, Gt, Ge, Exists, NotExists, In, NotIn, Regex };

struct Condition {
  sluice::FieldPath field;
  Op op;
  sluice::Json value;
  std::shared_ptr<const re2::RE2> re;
};

Op parse_op(const std::string& s, const std::string& where) {
  static const std::pair<const char*, Op> ops[] = {
      {"==", Op::Eq}, {"!=", Op::Ne},        {"<", Op::Lt},          {"<=", Op::Le},
      {">", Op::Gt},  {">=", Op::Ge},        {"exists", Op::Exists}, {"not_exists", Op::NotExists},
      {"in", Op::In}, {"not_in", Op::NotIn}, {"regex", Op::Regex}};
  for (auto& [name, op] : ops)
    if (s == name) return op;
  throw std::runtime_error(where + ": unknown op '" + s +
                           "'; expected ==, !=, <, <=, >, >=, exists, not_exists, in, not_in, regex");
}

/**
 * RE2 (linear time, no recursion, bounded memory), not std::regex: libstdc++'s matcher recurses per
 * character (a long field overflows the stack), backtracks exponentially, and its compiler overflows on
 * `a{4444444444444444444}` (found by the config fuzzer). Null with @p error when RE2 refuses it.
 */
std::shared_ptr<const re2::RE2> compile_regex(const std::string& pattern, std::string& error) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(8 << 20);
  auto re = std::make_shared<const re2::RE2>(pattern, options);
  if (re->ok()) return re;
  error = re->error();
  return nullptr;
}

/** Numbers compare as numbers (int and float alike); everything else by JSON equality / string order. */
int compare(const sluice::Json& a, const sluice::Json& b, bool& comparable) {
  comparable = true;
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>(), y = b.get<double>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    auto& x = a.get_ref<const std::string&>();
    auto& y = b.get_ref<const std::string&>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  comparable = false;
  return a == b ? 0 : 1;
}

bool equal(const sluice::Json& a, const sluice::Json& b) {
  bool comparable;
  int c = compare(a, b, comparable);
  return comparable ? c == 0 : a == b;
}

class Filter : public sluice::Transform {
 public:
  /** The factory-side check of its config (validate and run). */
  static void check(const sluice::Config& cfg, sluice::ConfigIssues& issues);

  Filter(sluice::PluginContext& ctx, const sluice::Config& cfg)
      : ctx_(ctx), all_(cfg.str("mode") == "all"), keep_(cfg.str("action") == "keep") {
    for (const sluice::Config& c : cfg.children("conditions")) {
      std::string err;
      auto field = sluice::FieldPath::parse(c.str("field"), &err);
      if (!field) throw std::runtime_error(c.where("field") + ": " + err);
      Condition cond{*field, parse_op(c.str("op"), c.where("op")), nullptr, nullptr};
      if (c.has("value")) cond.value = sluice::yaml_to_json(c.node("value"));
      if (cond.op == Op::Regex) {
        cond.re = compile_regex(cond.value.get<std::string>(), err);
        if (!cond.re) throw std::runtime_error(c.where("value") + ": invalid regex: " + err);
      }
      conditions_.push_back(std::move(cond));
    }
  }

  void process(sluice::Batch& batch) override {
    std::size_t out = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      sluice::Event& e = batch[i];
      bool matched;
      try {
        matched = matches(e);
      } catch (const sluice::ParseError& err) {
        ctx_.dead_letter(std::move(e), std::string("filter: invalid JSON: ") + err.what());
        continue;
      }
      if (matched == keep_) {
        if (out != i) batch[out] = std::move(e);
        ++out;
      }
    }
    batch.resize(out);  // dropped events release their acks as delivered
  }

 private:
  bool matches(const sluice::Event& e) const {
    for (const auto& c : conditions_) {
      bool r = test(c, e);
      if (all_ && !r) return false;
      if (!all_ && r) return true;
    }
    return all_;
  }

  static bool test(const Condition& c, const sluice::Event& e) {
    std::optional<sluice::Json> v = c.field.get(e);
    switch (c.op) {
      case Op::Exists:
        return v.has_value() && !v->is_null();
      case Op::NotExists:
        return !v.has_value() || v->is_null();
      case Op::In:
      case Op::NotIn: {
        bool found = false;
        if (v)
          for (const auto& x : c.value)
            if (equal(*v, x)) {
              found = true;
              break;
            }
        return found == (c.op == Op::In);
      }
      case Op::Regex: {
        if (!v) return false;
        if (v->is_string()) return re2::RE2::PartialMatch(v->get_ref<const std::string&>(), *c.re);
        return re2::RE2::PartialMatch(v->dump(), *c.re);
      }
      case Op::Ne:
        return !v || !equal(*v, c.value);
      default:
        break;
    }
    if (!v) return false;
    bool comparable;
    int cmp = compare(*v, c.value, comparable);
    switch (c.op) {
      case Op::Eq:
        return comparable ? cmp == 0 : *v == c.value;
      case Op::Lt:
        return comparable && cmp < 0;
      case Op::Le:
        return comparable && cmp <= 0;
      case Op::Gt:
        return comparable && cmp > 0;
      case Op::Ge:
        return comparable && cmp >= 0;
      default:
        return false;
    }
  }

  sluice::PluginContext& ctx_;
  bool all_;
  bool keep_;
  std::vector<Condition> conditions_;
};

}  // namespace

const sluice::Schema& filter_schema() {
  static const sluice::Schema s =
      sluice::SchemaBuilder()
          .option("conditions", sluice::OptionType::ObjectList)
          .required()
          .nested(sluice::SchemaBuilder()
                      .option("field", sluice::OptionType::Field)
                      .required()
                      .doc("Field reference (user_id, listing.title, meta.header.User-Agent).")
                      .option("op", sluice::OptionType::Enum)
                      .choices(
                          {"==", "!=", "<", "<=", ">", ">=", "exists", "not_exists", "in", "not_in", "regex"})
                      .def("==")
                      .doc("Comparison; numbers compare as numbers.")
                      .option("value", sluice::OptionType::Any)
                      .doc("Value to compare with (a list for in / not_in; for regex, an RE2 pattern found "
                           "anywhere in the value).")
                      .build())
          .doc("Conditions on fields.")
          .option("mode", sluice::OptionType::Enum)
          .choices({"all", "any"})
          .def("all")
          .doc("all: every condition must hold; any: one is enough.")
          .option("action", sluice::OptionType::Enum)
          .choices({"keep", "drop"})
          .def("keep")
          .doc("keep: pass matching events on; drop: pass the others on.")
          .build();
  return s;
}
const char* const filter_docs =
    "Keeps (or drops) events matching conditions. Dropped events count as delivered; events whose payload is "
    "not "
    "JSON go to the dead-letter sink.\n\n```yaml\ntransforms:\n  - type: filter\n    conditions:\n      - "
    "{field: "
    "event_type, op: in, value: [purchase_sword, purchase_knife]}\n```\n";

void Filter::check(const sluice::Config& cfg, sluice::ConfigIssues& issues) {
  for (const sluice::Config& c : cfg.children("conditions")) {
    const std::string op = c.str("op");
    const sluice::Json value = c.has("value") ? sluice::yaml_to_json(c.node("value")) : sluice::Json();
    if (op != "exists" && op != "not_exists" && !c.has("value")) {
      issues.error(c, "", "op '" + op + "' needs a value");
    } else if ((op == "in" || op == "not_in") && !value.is_array()) {
      issues.error(c, "value", "op '" + op + "' needs a list");
    } else if (op == "regex") {
      if (!value.is_string()) {
        issues.error(c, "value", "regex must be a string");
        continue;
      }
      std::string error;
      if (!compile_regex(value.get<std::string>(), error))
        issues.error(c, "value", "invalid regex (RE2 syntax): " + sluice::safe_utf8(error));
    }
  }
}

sluice::PluginDescriptor filter_descriptor() {
  return sluice::describe<Filter>(sluice::PluginKind::Transform, "filter",
                                  "Keeps or drops events by conditions on fields.", filter_docs,
                                  &filter_schema);
}

}  // namespace sluice_basic
