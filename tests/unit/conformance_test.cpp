// The conformance checks of sluice/conformance.hpp (as Vector's component
// compliance tests) over every plugin in the build tree's plugin directory,
// one test per plugin: descriptor, schema table, defaults, the docs example
// (what `sluice plugins NAME` and docs/reference.md show users, so every
// docs example is checked to be valid), an unknown key refused, and an
// instance created, stopped and destroyed. Out-of-tree plugins get the same
// checks from sluice-conformance (cmake/SluicePlugin.cmake).
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "loader.hpp"
#include "sluice/conformance.hpp"
#include "sluice/sdk.hpp"

using sluice::PluginKind;
using sluice::core::LoadedPlugin;
using sluice::core::PluginLoader;

namespace {

struct Loaded {
  PluginLoader loader;
  std::string error;
};

Loaded& loaded() {
  static Loaded* l = [] {
    auto* x = new Loaded;
    try {
      x->loader.load_directories({SLUICE_TEST_PLUGIN_DIR});
    } catch (const std::exception& e) {
      x->error = e.what();
    }
    return x;
  }();
  return *l;
}

struct Param {
  PluginKind kind;
  std::string name;
  std::string check;
  std::string plugin() const { return std::string(sluice::to_string(kind)) + " " + name; }
};

// Readable names in test output and ctest listings.
[[maybe_unused]] void PrintTo(const Param& p, std::ostream* os) {
  *os << p.plugin() << ": " << p.check;
}

// One test per plugin and check: ctest runs each in a process of its own, which then runs only it.
std::vector<Param> params() {
  std::vector<Param> out;
  for (const LoadedPlugin* p : loaded().loader.all())
    for (const auto& check : sluice::testing::conformance_checks())
      out.push_back({p->descriptor->kind, p->descriptor->name, check});
  return out;
}

std::string param_name(const testing::TestParamInfo<Param>& info) {
  std::string s =
      std::string(sluice::to_string(info.param.kind)) + "_" + info.param.name + "_" + info.param.check;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

class Conformance : public testing::TestWithParam<Param> {};

}  // namespace

TEST(ConformanceLoad, EveryBuiltPluginLoads) {
  EXPECT_EQ(loaded().error, "") << "refused: " << loaded().error;
}

// The tests below are instantiated per loaded plugin: without this, a plugin (or a whole
// family) that failed to build or load would simply have no tests, and the suite would pass.
TEST(ConformanceLoad, TheExpectedPluginsWereLoaded) {
  // Plugins of the families shipped here; a family without an entry must load at least one.
  const std::map<std::string, std::set<std::string>> expected = {
      {"basic",
       {"source generate", "source stdin", "transform filter", "transform remap", "sink null",
        "sink stdout"}},
      {"file", {"source file", "sink file"}},
      {"http", {"source http"}},
      {"kafka", {"source kafka", "sink kafka", "resource kafka_embedded"}},
  };
  std::map<std::string, std::set<std::string>> got;
  for (const LoadedPlugin* p : loaded().loader.all())
    got[p->library_name].insert(std::string(sluice::to_string(p->descriptor->kind)) + " " +
                                p->descriptor->name);
  std::set<std::string> families;
  std::stringstream list(SLUICE_TEST_PLUGIN_FAMILIES);
  for (std::string f; std::getline(list, f, ',');)
    if (!f.empty()) families.insert(f);
  ASSERT_FALSE(families.empty()) << "the build enables no plugin family";
  for (const auto& family : families) {
    const auto& loaded_here = got[family];
    EXPECT_FALSE(loaded_here.empty())
        << "no plugin of family '" << family << "' was loaded from " << SLUICE_TEST_PLUGIN_DIR;
    auto it = expected.find(family);
    if (it == expected.end()) continue;
    for (const auto& name : it->second)
      EXPECT_TRUE(loaded_here.count(name)) << "family '" << family << "': " << name << " was not loaded";
  }
}

TEST_P(Conformance, Check) {
  const Param& p = GetParam();
  const auto results = sluice::testing::check_conformance(SLUICE_TEST_PLUGIN_DIR, p.plugin(), p.check);
  bool ran = false;
  for (const auto& c : results) {
    EXPECT_EQ(c.problem, "") << c.plugin << ": " << c.check;
    ran = ran || (c.plugin == p.plugin() && c.check == p.check);
  }
  // Without an example, the checks that need one do not run: the example check has failed then.
  if (p.check != "unknown-key" && p.check != "create-stop-destroy") {
    EXPECT_TRUE(ran) << p.plugin() << ": the check '" << p.check << "' did not run";
  }
}

INSTANTIATE_TEST_SUITE_P(Plugins, Conformance, testing::ValuesIn(params()), param_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Conformance);
