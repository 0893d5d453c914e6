// Secrets taken from a config: the value, an environment variable or a file; what a
// missing one throws (EnvironmentError: `sluice run` exits 2) and that the value is
// never in a message.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <yaml-cpp/yaml.h>

#include "sluice/secret.hpp"

namespace {

using sluice::Config;
using sluice::EnvironmentError;

Config config(const std::string& yaml) {
  return Config(YAML::Load(yaml), "p.yaml", "source.auth");
}

/** The message read_secret throws for @p yaml (empty when it does not throw EnvironmentError). */
std::string failure(const std::string& yaml) {
  try {
    (void)sluice::read_secret(config(yaml), "token");
  } catch (const EnvironmentError& e) {
    return e.what();
  }
  return {};
}

TEST(Secret, ValueEnvironmentAndFile) {
  EXPECT_EQ(sluice::read_secret(config("token: s3cr3t"), "token"), "s3cr3t");

  ::setenv("SLUICE_SECRET_TEST", "from-env", 1);
  EXPECT_EQ(sluice::read_secret(config("token_env: SLUICE_SECRET_TEST"), "token"), "from-env");
  ::unsetenv("SLUICE_SECRET_TEST");

  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("sluice-secret-" + std::to_string(::getpid()));
  std::ofstream(file) << "from-file\n";
  EXPECT_EQ(sluice::read_secret(config("token_file: " + file.string()), "token"), "from-file");
  std::filesystem::remove(file);
}

TEST(Secret, MissingVariableOrFileIsAnEnvironmentErrorWithItsPosition) {
  ::unsetenv("SLUICE_SECRET_UNSET");
  const std::string unset = failure("token_env: SLUICE_SECRET_UNSET");
  EXPECT_NE(unset.find("p.yaml:1:"), std::string::npos) << unset;
  EXPECT_NE(unset.find("SLUICE_SECRET_UNSET is not set or empty"), std::string::npos) << unset;

  ::setenv("SLUICE_SECRET_EMPTY", "", 1);
  EXPECT_NE(failure("token_env: SLUICE_SECRET_EMPTY").find("not set or empty"), std::string::npos);
  ::unsetenv("SLUICE_SECRET_EMPTY");

  const std::string missing = failure("token_file: /nonexistent/sluice/token");
  EXPECT_NE(missing.find("cannot read /nonexistent/sluice/token"), std::string::npos) << missing;
}

TEST(Secret, AnEmptyFileSaysSoWithoutTheValue) {
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("sluice-secret-empty-" + std::to_string(::getpid()));
  std::ofstream(file) << "\n";
  const std::string empty = failure("token_file: " + file.string());
  std::filesystem::remove(file);
  EXPECT_NE(empty.find("the token is empty"), std::string::npos) << empty;
}

}  // namespace
