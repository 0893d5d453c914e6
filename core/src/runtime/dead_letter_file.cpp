#include "runtime/dead_letter_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "sluice/append.hpp"

namespace sluice::core {

namespace fs = std::filesystem;

namespace {

std::string utc_iso8601(std::int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

std::string errno_text(int err) {
  return std::strerror(err);
}

}  // namespace

std::string default_dead_letter_path(const std::string& data_dir, const std::string& pipeline) {
  std::string file = pipeline;
  for (char& c : file) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) c = '_';
  }
  if (file.empty() || file == "." || file == "..") file = "_" + file;
  return (fs::path(data_dir) / "dead-letter" / (file + ".jsonl")).string();
}

std::string dead_letter_record(const Event& event, const std::string& pipeline) {
  const Metadata& m = event.meta;
  Json j = {{"time", utc_iso8601(now_ms())},
            {"pipeline", pipeline},
            {"reason", m.error},
            {"source", m.source},
            {"topic", m.topic},
            {"partition", m.partition},
            {"offset", m.offset},
            {"timestamp_ms", event.timestamp_ms}};
  if (m.key) j["key"] = *m.key;
  // Fields first: an event built from fields may hold bytes that payload() cannot serialise.
  if (event.parse())
    j["payload"] = event.fields();
  else
    j["payload_text"] = safe_utf8(event.payload());
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

DeadLetterFile::DeadLetterFile(std::string path, std::string pipeline)
    : path_(std::move(path)), pipeline_(std::move(pipeline)) {
  open();
}

DeadLetterFile::~DeadLetterFile() {
  if (fd_ >= 0) ::close(fd_);
}

void DeadLetterFile::open() {
  const fs::path file(path_);
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  const bool existed = ::access(path_.c_str(), F_OK) == 0;
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0)
    throw std::runtime_error("cannot open the dead-letter file '" + path_ + "': " + errno_text(errno) +
                             (ec ? " (creating its directory: " + ec.message() + ")" : std::string()));
  // A record torn by a kill -9 mid-write was never acknowledged: cut it, so the next one
  // does not fuse with it.
  std::size_t cut = 0;
  if (existed && cut_partial_line(fd_, cut, true) == 0) cut_bytes_ += cut;
  if (!existed) {
    // The new directory entry is durable only once its directory is synced.
    const int dir = ::open(file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
  }
}

WriteResult DeadLetterFile::write(Batch& batch) {
  std::lock_guard lock(mu_);
  buf_.clear();
  for (const Event& e : batch) {
    buf_ += dead_letter_record(e, pipeline_);
    buf_ += '\n';
  }
  try {
    if (fd_ < 0) open();
  } catch (const std::exception& e) {
    return WriteResult::retry(e.what());
  }
  if (const int err = append_whole(fd_, buf_, undo_to_, true))
    return WriteResult::retry("appending to the dead-letter file '" + path_ + "': " + errno_text(err));
  return WriteResult::ok();
}

void DeadLetterFile::reopen() {
  std::lock_guard lock(mu_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace sluice::core
