// `sluice test`: config unit tests, as `vector test` runs them. A test file
// names pipeline files and lists tests; each test feeds events into one
// pipeline's transforms (in-process, no source or sink is created) and
// compares what comes out:
//
//   pipelines: [../pipelines/clicks.yaml]     # relative to the test file
//   tests:
//     - name: bots are dropped
//       pipeline: clicks
//       inputs:
//         - event: {user: 1, agent: bot}
//         - event: {user: 2}
//           meta: {key: u2, topic: clicks, headers: {User-Agent: curl}}
//       outputs:
//         - event: {user: 2}                   # exact JSON equality
//         - conditions: {user: 2, meta.key: u2}  # field == value
//
// Held events (aggregators) are flushed after the inputs, as at shutdown.
#include <filesystem>
#include <iostream>

#include "app/commands.hpp"
#include "app/standalone_context.hpp"
#include "config/pipeline_config.hpp"
#include "config/yaml_source.hpp"
#include "sluice/template.hpp"

namespace sluice::app {
namespace {

namespace fs = std::filesystem;

const Schema& test_file_schema() {
  static const Schema schema = [] {
    auto meta = SchemaBuilder()
                    .option("key", OptionType::String)
                    .doc("Kafka key.")
                    .option("topic", OptionType::String)
                    .doc("Topic (or HTTP path).")
                    .option("headers", OptionType::StringMap)
                    .doc("Headers.")
                    .build();
    auto input = SchemaBuilder()
                     .option("event", OptionType::Any)
                     .doc("The event as a JSON object (YAML).")
                     .option("payload", OptionType::String)
                     .doc("The raw payload text, instead of event.")
                     .option("meta", OptionType::Object)
                     .nested(meta)
                     .doc("Metadata.")
                     .build();
    auto output = SchemaBuilder()
                      .option("event", OptionType::Any)
                      .doc("Expected event: exact JSON equality.")
                      .option("payload", OptionType::String)
                      .doc("Expected raw payload text.")
                      .option("conditions", OptionType::StringMap)
                      .doc("Field reference to expected value.")
                      .build();
    auto test = SchemaBuilder()
                    .option("name", OptionType::String)
                    .required()
                    .doc("Test name.")
                    .option("pipeline", OptionType::String)
                    .required()
                    .doc("Pipeline whose transforms run.")
                    .option("inputs", OptionType::ObjectList)
                    .required()
                    .nested(input)
                    .doc("Input events.")
                    .option("outputs", OptionType::ObjectList)
                    .def("[]")
                    .nested(output)
                    .doc("Expected outputs, in order.")
                    .build();
    return SchemaBuilder()
        .option("pipelines", OptionType::StringList)
        .required()
        .doc("Pipeline files, relative to the test file.")
        .option("tests", OptionType::ObjectList)
        .required()
        .nested(test)
        .doc("The tests.")
        .build();
  }();
  return schema;
}

/** YAML as written to JSON: quoted scalars stay strings, plain ones become numbers, booleans or null. */
Json to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json j = Json::object();
      for (auto kv : node) j[kv.first.Scalar()] = to_json(kv.second);
      return j;
    }
    case YAML::NodeType::Sequence: {
      Json j = Json::array();
      for (auto item : node) j.push_back(to_json(item));
      return j;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "!") return s;
      if (s == "null" || s == "~" || s.empty()) return nullptr;
      if (s == "true") return true;
      if (s == "false") return false;
      Json parsed = Json::parse(s, nullptr, false);
      if (!parsed.is_discarded() && parsed.is_number()) return parsed;
      return s;
    }
    default:
      return nullptr;
  }
}

Event make_input(const YAML::Node& input) {
  Event e = input["payload"] ? Event(input["payload"].as<std::string>())
                             : Event::from_json(to_json(input["event"]));
  if (const YAML::Node meta = input["meta"]) {
    if (meta["key"]) e.meta.key = meta["key"].as<std::string>();
    if (meta["topic"]) e.meta.topic = meta["topic"].as<std::string>();
    if (meta["headers"])
      for (auto kv : meta["headers"]) e.meta.headers.push_back({kv.first.Scalar(), kv.second.Scalar()});
  }
  e.timestamp_ms = now_ms();
  return e;
}

std::string show(const Event& e) {
  if (e.parse()) return e.fields().dump();
  return e.payload();
}

/** Why @p actual does not match @p expected; empty when it does. */
std::string mismatch(const YAML::Node& expected, const Event& actual) {
  if (const YAML::Node ev = expected["event"]) {
    std::string err;
    if (!actual.parse(&err))
      return "expected JSON " + to_json(ev).dump() + ", got a payload that is not JSON (" + err + ")";
    const Json want = to_json(ev);
    if (actual.fields() != want) return "expected " + want.dump() + ", got " + actual.fields().dump();
  }
  if (const YAML::Node p = expected["payload"]) {
    if (actual.payload() != p.Scalar())
      return "expected payload '" + p.Scalar() + "', got '" + actual.payload() + "'";
  }
  if (const YAML::Node conds = expected["conditions"]) {
    for (auto kv : conds) {
      const std::string field = kv.first.Scalar();
      std::string err;
      auto path = FieldPath::parse(field, &err);
      if (!path) return "condition '" + field + "': " + err;
      const Json want = to_json(kv.second);
      std::optional<Json> got;
      try {
        got = path->get(actual);
      } catch (const std::exception& e) {
        return "condition " + field + " == " + want.dump() + ": " + e.what();
      }
      if (!got) return "condition " + field + " == " + want.dump() + ": field missing in " + show(actual);
      // A condition written `n: 5` also matches the text "5" and the other way round: YAML hides the
      // difference.
      const bool equal = *got == want || (got->is_string() && want.dump() == got->get<std::string>()) ||
                         (want.is_string() && got->dump() == want.get<std::string>());
      if (!equal) return "condition " + field + " == " + want.dump() + ": got " + got->dump();
    }
  }
  return {};
}

/** Runs @p inputs through the transforms of @p spec; then flushes held events through the rest. */
Batch run_transforms(const core::PipelineSpec& spec, const core::PluginLoader& loader, Batch inputs,
                     std::vector<std::string>& dead_letters) {
  std::vector<std::unique_ptr<core::StandaloneContext>> contexts;
  std::vector<std::shared_ptr<Transform>> transforms;
  for (const auto& c : spec.transforms) {
    contexts.push_back(std::make_unique<core::StandaloneContext>(spec.name, c.id));
    transforms.push_back(loader.create<Transform>(*c.plugin, *contexts.back(), c.config));
  }
  auto through = [&](Batch& batch, std::size_t from) {
    for (std::size_t i = from; i < transforms.size() && !batch.empty(); ++i) transforms[i]->process(batch);
  };
  Batch out = std::move(inputs);
  through(out, 0);
  for (std::size_t i = 0; i < transforms.size(); ++i) {
    Batch held;
    transforms[i]->flush(held);
    through(held, i + 1);
    for (auto& e : held) out.push_back(std::move(e));
  }
  for (std::size_t i = 0; i < contexts.size(); ++i)
    for (auto& [event, reason] : contexts[i]->take_dead_letters())
      dead_letters.push_back(spec.transforms[i].id + ": " + reason + ": " + show(event));
  transforms.clear();
  return out;
}

struct Totals {
  std::size_t passed = 0, failed = 0;
};

/** Returns false when the file is invalid (diagnostics printed). */
bool run_file(const std::string& file, const core::PluginLoader& loader, Totals& totals) {
  core::Diagnostics diags;
  std::string text;
  std::optional<core::YamlSource> src;
  if (core::read_file(file, text, diags)) src = core::parse_yaml(text, file, diags);
  if (!src) {
    std::cerr << diags.format();
    return false;
  }
  core::validate_options(src->root, test_file_schema(), *src, "", diags);
  const YAML::Node& root = src->root;
  // Go on after schema errors where the structure allows, so one run shows every mistake.
  std::optional<core::ConfigSet> set;
  if (root.IsMap() && root["pipelines"] && (root["pipelines"].IsSequence() || root["pipelines"].IsScalar())) {
    std::vector<std::string> pipeline_files;
    const fs::path base = fs::path(file).parent_path();
    const YAML::Node list = root["pipelines"];
    auto add = [&](const std::string& p) {
      pipeline_files.push_back(fs::path(p).is_absolute() ? p : (base / p).lexically_normal().string());
    };
    if (list.IsScalar())
      add(list.Scalar());
    else
      for (auto p : list)
        if (p.IsScalar()) add(p.Scalar());
    set = core::load_config(pipeline_files, loader, diags);
  }
  const YAML::Node tests = root.IsMap() ? root["tests"] : YAML::Node();
  std::size_t index = 0;
  for (auto test : tests.IsSequence() ? tests : YAML::Node()) {
    const std::string path = "tests[" + std::to_string(index++) + "]";
    if (!test.IsMap()) continue;
    const YAML::Node pipeline = test["pipeline"];
    if (set && pipeline && pipeline.IsScalar() &&
        std::none_of(set->pipelines.begin(), set->pipelines.end(),
                     [&](const core::PipelineSpec& p) { return p.name == pipeline.Scalar(); }))
      src->report(diags, pipeline.Mark(), path + ".pipeline",
                  "no pipeline named '" + pipeline.Scalar() + "' in the pipeline files");
    std::size_t i = 0;
    const YAML::Node inputs = test["inputs"];
    for (auto input : inputs.IsSequence() ? inputs : YAML::Node()) {
      const std::string ipath = path + ".inputs[" + std::to_string(i++) + "]";
      if (input.IsMap() && !input["event"] == !input["payload"])
        src->report(diags, input.Mark(), ipath, "give either `event` (JSON) or `payload` (text)");
    }
    i = 0;
    const YAML::Node outputs = test["outputs"];
    for (auto output : outputs.IsSequence() ? outputs : YAML::Node()) {
      const std::string opath = path + ".outputs[" + std::to_string(i++) + "]";
      if (!output.IsMap()) continue;
      if (!output["event"] && !output["payload"] && !output["conditions"])
        src->report(diags, output.Mark(), opath, "give `event`, `payload` or `conditions`");
      if (const YAML::Node conds = output["conditions"]; conds.IsMap())
        for (auto kv : conds) {
          std::string err;
          if (!FieldPath::parse(kv.first.Scalar(), &err))
            src->report(diags, kv.first.Mark(), opath + ".conditions." + kv.first.Scalar(), err);
        }
    }
  }
  if (!set || !diags.empty()) {
    std::cerr << diags.format();
    return false;
  }

  for (auto test : root["tests"]) {
    const std::string name = test["name"].Scalar();
    const auto& spec =
        *std::find_if(set->pipelines.begin(), set->pipelines.end(),
                      [&](const core::PipelineSpec& p) { return p.name == test["pipeline"].Scalar(); });
    std::vector<std::string> problems;
    std::vector<std::string> dead_letters;
    Batch out;
    try {
      Batch in;
      for (auto input : test["inputs"]) in.push_back(make_input(input));
      out = run_transforms(spec, loader, std::move(in), dead_letters);
    } catch (const std::exception& e) {
      problems.push_back(std::string("transform failed: ") + e.what());
    }
    if (problems.empty()) {
      const YAML::Node expected = test["outputs"];
      if (out.size() != expected.size())
        problems.push_back("expected " + std::to_string(expected.size()) + " outputs, got " +
                           std::to_string(out.size()));
      for (std::size_t i = 0; i < std::min<std::size_t>(out.size(), expected.size()); ++i)
        if (std::string why = mismatch(expected[i], out[i]); !why.empty())
          problems.push_back("output " + std::to_string(i + 1) + ": " + why);
    }
    if (problems.empty()) {
      ++totals.passed;
      std::cout << "PASS " << file << ": " << name << "\n";
      continue;
    }
    ++totals.failed;
    std::cout << "FAIL " << file << ": " << name << "\n";
    for (const auto& p : problems) std::cout << "  " << p << "\n";
    std::cout << "  outputs (" << out.size() << "):\n";
    for (const auto& e : out) std::cout << "    " << show(e) << "\n";
    for (const auto& d : dead_letters) std::cout << "  dead-lettered: " << d << "\n";
  }
  return true;
}

}  // namespace

int test_command(const CliOptions& opts) {
  auto settings = load_daemon_settings(opts, std::cerr);
  if (!settings) return exit_usage;
  core::PluginLoader loader;
  if (!load_plugins(opts, *settings, loader, std::cerr)) return exit_usage;
  Totals totals;
  bool valid = true;
  for (const auto& file : opts.args) valid = run_file(file, loader, totals) && valid;
  std::cout << (totals.passed + totals.failed) << " tests: " << totals.passed << " passed, " << totals.failed
            << " failed\n";
  if (!valid) return exit_usage;
  return totals.failed ? exit_failure : exit_ok;
}

}  // namespace sluice::app
