// The plugin loader refuses incompatible libraries with the file and the
// reason, and never unmaps a library while an instance of it lives.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "app/standalone_context.hpp"
#include "config/pipeline_config.hpp"
#include "loader.hpp"

namespace fs = std::filesystem;
using sluice::PluginKind;
using sluice::core::LoadError;
using sluice::core::PluginLoader;

namespace {

std::string test_plugin_dir(const std::string& name) {
  return std::string(SLUICE_TEST_BINARY_DIR) + "/test-plugins/" + name;
}
std::string test_plugin_file(const std::string& name) {
  return test_plugin_dir(name) + "/sluice-test-" + name + ".so";
}

std::string load_error(const std::vector<std::string>& dirs) {
  PluginLoader loader;
  try {
    loader.load_directories(dirs);
  } catch (const LoadError& e) {
    return e.what();
  }
  return {};
}

bool mapped(const std::string& file) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line))
    if (line.find(file) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(Loader, RefusesWrongAbiVersionNamingFileAndReason) {
  const std::string msg = load_error({test_plugin_dir("wrong_abi")});
  EXPECT_NE(msg.find("sluice-test-wrong_abi.so"), std::string::npos) << msg;
  EXPECT_NE(msg.find("plugin ABI version 999, this sluice speaks " + std::to_string(SLUICE_ABI_VERSION)),
            std::string::npos)
      << msg;
}

TEST(Loader, RefusesLibraryWithoutEntrySymbol) {
  const std::string msg = load_error({test_plugin_dir("no_symbol")});
  EXPECT_NE(msg.find("sluice-test-no_symbol.so: not a sluice plugin: no symbol sluice_plugin_library"),
            std::string::npos)
      << msg;
}

TEST(Loader, RefusesOtherBuildId) {
  const std::string msg = load_error({test_plugin_dir("bad_build")});
  EXPECT_NE(msg.find("sluice-test-bad_build.so: built by 'sluice 0.0.1; gcc 4.8"), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::string("this sluice is '") + SLUICE_BUILD_ID + "'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("rebuild the plugin"), std::string::npos) << msg;
}

TEST(Loader, TheBuildIdNamesTheLibrariesWhoseTypesCrossThePluginBoundary) {
  // A plugin built against another nlohmann/json, yaml-cpp or Poco passes their objects with another
  // layout: its build id differs, and RefusesOtherBuildId shows how such a library is refused.
  const std::string id = SLUICE_BUILD_ID;
  const std::string nlohmann = "nlohmann " + std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                               std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
                               std::to_string(NLOHMANN_JSON_VERSION_PATCH);
  EXPECT_NE(id.find(nlohmann), std::string::npos) << id;
  EXPECT_NE(id.find("; yaml-cpp " SLUICE_YAML_CPP_VERSION ";"), std::string::npos) << id;
  EXPECT_NE(std::string(SLUICE_YAML_CPP_VERSION), "unknown") << "the build did not pass the yaml-cpp version";
  EXPECT_NE(id.find("; Poco " SLUICE_STR(POCO_VERSION)), std::string::npos) << id;
}

TEST(Loader, RefusesDuplicatePluginNamingBothFiles) {
  const std::string msg = load_error({test_plugin_dir("dup")});
  EXPECT_NE(msg.find("sluice-test-dup_a.so"), std::string::npos) << msg;
  EXPECT_NE(msg.find("sluice-test-dup_b.so"), std::string::npos) << msg;
  EXPECT_NE(msg.find("duplicate sink plugin 'dup'"), std::string::npos) << msg;
}

TEST(Loader, RefusedLibraryRegistersNothing) {
  PluginLoader loader;
  loader.load_directories({test_plugin_dir("slow")});
  EXPECT_THROW(loader.load_file(test_plugin_file("wrong_abi")), LoadError);
  ASSERT_EQ(loader.all().size(), 1u);
  EXPECT_STREQ(loader.all()[0]->descriptor->name, "slow");
  // Built out of tree against ABI 3: its static check came through describe<>().
  EXPECT_NE(loader.all()[0]->descriptor->check, nullptr);
}

TEST(Loader, SameFileTwiceLoadsOnce) {
  PluginLoader loader;
  loader.load_directories({test_plugin_dir("slow"), test_plugin_dir("slow") + "/."});
  EXPECT_EQ(loader.all().size(), 1u);
}

TEST(Loader, MissingDirectoriesAreSkipped) {
  PluginLoader loader;
  EXPECT_NO_THROW(loader.load_directories({"/nonexistent/sluice/plugins"}));
  EXPECT_TRUE(loader.all().empty());
}

TEST(Loader, InstanceKeepsLibraryLoaded) {
  const std::string file = fs::canonical(test_plugin_file("slow")).string();
  const fs::path out = fs::temp_directory_path() / ("sluice-loader-test-" + std::to_string(::getpid()));
  ASSERT_FALSE(mapped(file)) << "another test left the library loaded";
  sluice::core::StandaloneContext ctx("test", "test.sink.slow");
  std::shared_ptr<sluice::Sink> sink;
  {
    PluginLoader loader;
    loader.load_directories({test_plugin_dir("slow")});
    const auto* p = loader.find(PluginKind::Sink, "slow");
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->library_path, file);
    YAML::Node node = YAML::Load("path: " + out.string());
    sluice::core::Diagnostics diags;
    sluice::core::validate_options(node, p->descriptor->schema(), "<test>", "sink", diags);
    ASSERT_TRUE(diags.empty()) << diags.format();
    sink = loader.create<sluice::Sink>(*p, ctx, sluice::Config(node, "<test>", "sink"));
  }
  // The loader is gone; the instance still runs the library's code.
  EXPECT_TRUE(mapped(file));
  sluice::Batch batch;
  batch.emplace_back(std::string("{\"n\":1}"));
  EXPECT_EQ(sink->write(batch).outcome, sluice::Outcome::Ok);
  sink.reset();
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // Sanitizer builds keep unloaded libraries mapped on purpose (see loader.cpp).
  EXPECT_FALSE(mapped(file));
#endif
  std::ifstream in(out);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "{\"n\":1}");
  fs::remove(out);
}

TEST(Loader, DefaultDirectoriesIncludeBuildTree) {
  if (!fs::is_directory(SLUICE_TEST_PLUGIN_DIR)) GTEST_SKIP() << "no plugin built";
  auto dirs = PluginLoader::default_directories();
  ASSERT_FALSE(dirs.empty());
  EXPECT_EQ(dirs.front(), SLUICE_TEST_PLUGIN_DIR);
}
