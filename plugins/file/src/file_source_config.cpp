// The file source's factory-side check: the rules of its config that need no file
// system, so that `sluice validate` refuses what `sluice run` would.
#include "file_source.hpp"

namespace sluice::file {

void FileSource::check(const Config& config, ConfigIssues& issues) {
  const std::string path = config.str("path");
  if (path.empty() || path.find_first_not_of(" \t") == std::string::npos)
    issues.error(config, "path", "the path is empty");
  else if (path.find('\0') != std::string::npos)
    issues.error(config, "path", "the path has a NUL byte");
  if (config.str("read_from") == "end" && !config.boolean("follow"))
    issues.error(config, "read_from",
                 "read_from: end without follow: true reads nothing (the source would end at once)");
  if (config.has("checkpoint_dir") && !config.boolean("checkpoint"))
    issues.error(config, "checkpoint_dir", "checkpoint_dir is set but checkpoint is false");
}

}  // namespace sluice::file
