#pragma once
// Configuration errors, collected (not thrown one by one) so a user sees every
// mistake of a file at once.
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace sluice::core {

struct Diagnostic {
  std::string file;
  int line = 0;    ///< 1-based; 0 when unknown
  int column = 0;  ///< 1-based; 0 when unknown
  std::string path;     ///< key path, e.g. "pipelines.clicks.sinks[0].topik"
  std::string message;  ///< what is wrong and what was expected
  /** "file:line:col: path: message" */
  std::string format() const;
};

class Diagnostics {
 public:
  void add(std::string file, const YAML::Mark& mark, std::string path, std::string message);
  /** Keeps @p d with its text made valid UTF-8 (it quotes file bytes), safe to print and put into JSON. */
  void add(Diagnostic d);
  bool empty() const { return items_.empty(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  /** Every diagnostic formatted, one per line. */
  std::string format() const;

 private:
  std::vector<Diagnostic> items_;
};

}  // namespace sluice::core
