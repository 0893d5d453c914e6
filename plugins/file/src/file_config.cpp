// The file sink's factory-side check: every rule of its config that needs no
// file system, so that `sluice validate` refuses what `sluice run` would.
#include "file_sink.hpp"

namespace sluice::file {

void FileSink::check(const Config& config, ConfigIssues& issues) {
  const std::string path = config.str("path");
  if (path.empty() || path.find_first_not_of(" \t") == std::string::npos)
    issues.error(config, "path", "the path is empty");
  const std::string format = config.str("format");
  if (format == "template" && (!config.has("template") || config.str("template").empty()))
    issues.error(config, "format", "format: template needs the 'template' option");
  if (format == "columns") {
    const std::vector<std::string> columns =
        config.has("columns") ? config.strings("columns") : std::vector<std::string>{};
    if (columns.empty()) issues.error(config, "format", "format: columns needs a non-empty 'columns' list");
    for (const auto& c : columns) {
      std::string error;
      if (!FieldPath::parse(c, &error)) issues.error(config, "columns", "'" + c + "': " + error);
    }
  }
}

}  // namespace sluice::file
