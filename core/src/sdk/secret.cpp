// Secrets from a value, an environment variable or a file (sluice/secret.hpp).
#include "sluice/secret.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sluice {
namespace {

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

std::string key_path(const Config& config, const std::string& key) {
  const std::string& path = config.path();
  const std::size_t dot = path.rfind('.');
  const std::string last = dot == std::string::npos ? path : path.substr(dot + 1);
  return (last.empty() ? "" : last + ".") + key;
}

}  // namespace

SchemaBuilder& secret_options(SchemaBuilder& builder, const std::string& name, const std::string& what) {
  return builder.option(name, OptionType::String)
      .secret()
      .doc(what + ". Write `${ENV_VAR}` rather than the secret itself, or use `" + name + "_env` / `" + name +
           "_file`.")
      .option(name + "_env", OptionType::String)
      .doc("Name of an environment variable holding the " + name + ".")
      .option(name + "_file", OptionType::String)
      .doc("File holding the " + name + " (a trailing newline is ignored).");
}

bool has_secret(const Config& config, const std::string& name) {
  return config.has(name) || config.has(name + "_env") || config.has(name + "_file");
}

void check_secret(const Config& config, const std::string& name, ConfigIssues& issues, bool required) {
  const int given = config.has(name) + config.has(name + "_env") + config.has(name + "_file");
  if (given > 1 || (required && given == 0))
    issues.error(config, "",
                 "give exactly one of " + name + ", " + name + "_env, " + name + "_file (" +
                     (given == 0 ? std::string("none is") : std::to_string(given) + " are") + " set)");
  if (config.has(name) && config.str(name).empty()) issues.error(config, name, "the " + name + " is empty");
  if (config.has(name + "_env") && config.str(name + "_env").empty())
    issues.error(config, name + "_env", "the name of the environment variable is empty");
  if (config.has(name + "_file") && config.str(name + "_file").empty())
    issues.error(config, name + "_file", "the file name is empty");
}

EnvironmentError::~EnvironmentError() = default;

std::string read_secret(const Config& config, const std::string& name) {
  std::string value;
  if (config.has(name)) value = config.str(name);
  if (const std::string key = name + "_env"; config.has(key)) {
    const std::string var = config.str(key);
    const char* v = std::getenv(var.c_str());
    if (!v || !*v)
      throw EnvironmentError(config.where(key) + ": " + key_path(config, key) + ": environment variable " +
                             var + " is not set or empty");
    value = v;
  }
  if (const std::string key = name + "_file"; config.has(key)) {
    const std::string path = config.str(key);
    std::ifstream in(path, std::ios::binary);
    if (!in)
      throw EnvironmentError(config.where(key) + ": " + key_path(config, key) + ": cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    value = trimmed(ss.str());
  }
  if (value.empty())
    throw EnvironmentError(config.where() + ": " + key_path(config, name) + ": the " + name + " is empty");
  return value;
}

}  // namespace sluice
