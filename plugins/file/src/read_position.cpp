// The file source's acknowledged prefix and its checkpoint file.
#include "read_position.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sluice/append.hpp>
#include <sluice/event.hpp>

namespace sluice::file {

namespace fs = std::filesystem;

std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t hash) noexcept {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

namespace {

std::string file_name_part(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) c = '_';
  }
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  return out;
}

bool fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

CheckpointFile::CheckpointFile(std::string dir, const std::string& pipeline, std::string abs_path)
    : dir_(std::move(dir)), pipeline_(pipeline), abs_path_(std::move(abs_path)) {
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a64(abs_path_)));
  file_ = (fs::path(dir_) / (file_name_part(pipeline) + "-" + hash + ".json")).string();
}

std::optional<ReadPosition> CheckpointFile::load(std::string* error) const {
  std::ifstream in(file_);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  Json j;
  std::string why;
  if (!parse_json(text.str(), j, &why) || !j.is_object()) {
    if (error) *error = "checkpoint '" + file_ + "' is not JSON: " + why;
    return std::nullopt;
  }
  try {
    ReadPosition pos;
    pos.file.dev = j.at("dev").get<std::uint64_t>();
    pos.file.ino = j.at("inode").get<std::uint64_t>();
    pos.file.head_len = j.at("head_len").get<std::uint32_t>();
    pos.file.head_hash = std::stoull(j.at("head_hash").get<std::string>(), nullptr, 16);
    pos.offset = j.at("offset").get<std::uint64_t>();
    pos.line = j.at("line").get<std::uint64_t>();
    return pos;
  } catch (const std::exception& e) {
    if (error) *error = "checkpoint '" + file_ + "' is not a file source checkpoint: " + e.what();
    return std::nullopt;
  }
}

bool CheckpointFile::store(const ReadPosition& pos, std::string* error) const {
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(pos.file.head_hash));
  const Json j = {{"path", safe_utf8(abs_path_)},  {"pipeline", safe_utf8(pipeline_)},
                  {"dev", pos.file.dev},           {"inode", pos.file.ino},
                  {"head_len", pos.file.head_len}, {"head_hash", hash},
                  {"offset", pos.offset},          {"line", pos.line}};
  const std::string text = j.dump() + "\n";
  std::error_code ec;
  fs::create_directories(dir_, ec);
  const std::string tmp = file_ + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (error) *error = "cannot write '" + tmp + "': " + std::strerror(errno);
    return false;
  }
  std::int64_t undo_to = -1;
  const int err = append_whole(fd, text, undo_to, true);
  ::close(fd);
  if (err != 0) {
    if (error) *error = "cannot write '" + tmp + "': " + std::strerror(err);
    return false;
  }
  if (std::rename(tmp.c_str(), file_.c_str()) != 0) {
    if (error) *error = "cannot rename '" + tmp + "' to '" + file_ + "': " + std::strerror(errno);
    return false;
  }
  fsync_path(dir_, O_RDONLY | O_DIRECTORY);  // the rename is durable once its directory is
  return true;
}

std::uint64_t AckedPrefix::open() {
  std::lock_guard lock(mu_);
  entries_.push_back({next_seq_, State::Open, {}});
  return next_seq_++;
}

void AckedPrefix::close(std::uint64_t seq, const ReadPosition& end) {
  std::lock_guard lock(mu_);
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
    if (it->seq == seq) {
      it->end = end;
      if (it->state == State::Open) it->state = State::Pending;
      return;
    }
}

void AckedPrefix::complete(std::uint64_t seq, AckStatus status) {
  std::lock_guard lock(mu_);
  if (entries_.empty() || seq < entries_.front().seq) return;
  const std::size_t i = static_cast<std::size_t>(seq - entries_.front().seq);  // seqs are consecutive
  if (i >= entries_.size()) return;
  Entry& e = entries_[i];
  if (e.state == State::Done || e.state == State::Failed) return;
  e.state = status == AckStatus::Failed ? State::Failed : State::Done;
  advance_locked();
}

void AckedPrefix::advance_locked() {
  bool moved = false;
  while (!entries_.empty() && entries_.front().state == State::Done) {
    committed_ = entries_.front().end;
    entries_.pop_front();
    moved = true;
  }
  if (moved) {
    dirty_ = true;
    cv_.notify_all();
  }
}

AckHandle AckedPrefix::handle_for(const std::shared_ptr<AckedPrefix>& self, std::uint64_t seq) {
  return Ack::create([self, seq](AckStatus status) { self->complete(seq, status); });
}

std::optional<ReadPosition> AckedPrefix::wait_new(std::chrono::steady_clock::time_point until) {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, until, [this] { return dirty_ || stop_; });
  if (!dirty_) return std::nullopt;
  dirty_ = false;
  return committed_;
}

std::optional<ReadPosition> AckedPrefix::committed() const {
  std::lock_guard lock(mu_);
  return committed_;
}

std::size_t AckedPrefix::in_flight() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& e : entries_) n += e.state == State::Open || e.state == State::Pending;
  return n;
}

void AckedPrefix::request_stop() {
  std::lock_guard lock(mu_);
  stop_ = true;
  cv_.notify_all();
}

}  // namespace sluice::file
