#include "app/standalone_context.hpp"

#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "logging.hpp"

namespace sluice::core {

namespace fs = std::filesystem;

StandaloneContext::StandaloneContext(std::string pipeline, std::string id, std::string data_dir)
    : pipeline_(std::move(pipeline)),
      id_(std::move(id)),
      log_(make_logger(id_)),
      metrics_(registry_.scoped(pipeline_, id_)),
      data_dir_(std::move(data_dir)) {
  if (data_dir_.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "sluice-XXXXXX").string();
    if (!::mkdtemp(tmpl.data()))
      throw std::runtime_error("cannot create a temporary data directory in " + tmpl);
    data_dir_ = tmpl;
    remove_data_dir_ = true;
  } else {
    fs::create_directories(data_dir_);
  }
}

StandaloneContext::~StandaloneContext() {
  if (remove_data_dir_) {
    std::error_code ec;
    fs::remove_all(data_dir_, ec);
  }
}

bool StandaloneContext::wait_stop(std::chrono::milliseconds d) const {
  std::unique_lock lock(mu_);
  return stop_cv_.wait_for(lock, d, [this] { return stopping_.load(); });
}

void StandaloneContext::request_stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
}

std::shared_ptr<Resource> StandaloneContext::resource(const std::string& name) {
  throw std::runtime_error("resource '" + name + "' is not available to " + id_ +
                           " outside a running pipeline");
}

void StandaloneContext::dead_letter(Event event, std::string reason) {
  std::lock_guard lock(mu_);
  dead_letters_.emplace_back(std::move(event), std::move(reason));
}

std::vector<std::pair<Event, std::string>> StandaloneContext::take_dead_letters() {
  std::lock_guard lock(mu_);
  return std::exchange(dead_letters_, {});
}

}  // namespace sluice::core
