// sluice::testing::TempDir (testing.hpp).
#include <stdlib.h>

#include <filesystem>
#include <stdexcept>

#include "sluice/testing.hpp"

namespace sluice::testing {

TempDir::TempDir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary directory " + tmpl);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::operator/(const std::string& name) const {
  return (std::filesystem::path(path_) / name).string();
}

}  // namespace sluice::testing
