// Sink `slow`: a deliberately slow but durable sink for shutdown tests. Each
// write() sleeps `delay`, appends every event's payload as one line to `path`
// and fsyncs before answering Ok, so whatever it acknowledged is on disk.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "sluice/plugin.hpp"

namespace {

class Slow : public sluice::Sink {
 public:
  Slow(sluice::PluginContext&, const sluice::Config& config)
      : path_(config.str("path")), delay_(config.duration("delay")) {
    open_file();
  }
  ~Slow() override {
    if (fd_ >= 0) ::close(fd_);
  }
  /** An out-of-tree factory-side check, picked up by describe<Slow>(). */
  static void check(const sluice::Config& config, sluice::ConfigIssues& issues) {
    if (config.str("path").empty()) issues.error(config, "path", "the path is empty");
  }

  sluice::WriteResult write(sluice::Batch& batch) override {
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    std::string buf;
    for (const auto& e : batch) {
      buf += e.payload();
      buf += '\n';
    }
    std::lock_guard lock(mu_);
    std::size_t done = 0;
    while (done < buf.size()) {
      ssize_t n = ::write(fd_, buf.data() + done, buf.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return sluice::WriteResult::retry(std::string("write ") + path_ + ": " + std::strerror(errno));
      }
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd_) != 0)
      return sluice::WriteResult::retry(std::string("fsync ") + path_ + ": " + std::strerror(errno));
    return sluice::WriteResult::ok();
  }

  void reopen() override {
    std::lock_guard lock(mu_);
    if (fd_ >= 0) ::close(fd_);
    open_file();
  }

 private:
  void open_file() {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error("cannot open " + path_ + ": " + std::strerror(errno));
  }

  std::string path_;
  std::chrono::milliseconds delay_;
  std::mutex mu_;
  int fd_ = -1;
};

const sluice::Schema& schema() {
  static const sluice::Schema s = sluice::SchemaBuilder()
                                      .option("path", sluice::OptionType::String)
                                      .required()
                                      .doc("File the payloads are appended to, one per line.")
                                      .option("delay", sluice::OptionType::Duration)
                                      .def("0ms")
                                      .doc("Sleep before each batch is written.")
                                      .build();
  return s;
}

}  // namespace

SLUICE_PLUGIN_LIBRARY("slow",
                      sluice::describe<Slow>(sluice::PluginKind::Sink, "slow",
                                             "Test sink: appends payloads to a file with fsync, slowly.",
                                             "Test-only sink used by the shutdown tests.", &schema))
