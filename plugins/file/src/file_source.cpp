// Source `file`. One thread reads the file in 64 KiB chunks and splits them into lines
// (sluice::LineDecoder makes the events, as for stdin); each batch carries one
// acknowledgement, and a second thread stores the end of the acknowledged prefix in
// the checkpoint file, so neither the reader nor a sink thread waits for an fsync.
#include "file_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace sluice::file {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kChunk = 64 * 1024;

std::string errno_text(int err) {
  return std::strerror(err);
}

/** Reads up to @p n bytes at @p offset; what was read. */
std::string pread_some(int fd, std::size_t n, std::uint64_t offset) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  return out;
}

}  // namespace

const Schema& FileSource::schema() {
  static const Schema schema =
      SchemaBuilder()
          .option("path", OptionType::String)
          .required()
          .doc(
              "File to read. A relative path is relative to the working directory of `sluice` (as the file "
              "sink's `path` and `data_dir` are).")
          .with(&line_options)
          .option("follow", OptionType::Bool)
          .def("false")
          .doc(
              "false: read to the end of the file, then the source ends (a finite source: a run of only "
              "finite sources exits once everything is acknowledged). true: keep reading what is appended, "
              "as `tail -F`: a file that gets shorter is read again from the start (truncation); a new file "
              "at the path (rotation by rename) is read from the start once the old one is read to its end; "
              "a file missing at start is waited for.")
          .option("poll_interval", OptionType::Duration)
          .def("250ms")
          .range(1, 3600000)
          .doc("With `follow`: how often the file is checked for new data, truncation and rotation.")
          .option("read_from", OptionType::Enum)
          .choices({"beginning", "end"})
          .def("beginning")
          .doc(
              "Where to start in the file present at start when no checkpoint applies to it (`end`: only "
              "lines appended from now; needs `follow`). A file appearing later is read from its beginning "
              "(or its checkpoint, if it is the checkpoint's file).")
          .option("checkpoint", OptionType::Bool)
          .def("true")
          .doc(
              "Store the acknowledged position and resume from it after a restart, so that lines are not "
              "sent again. false: every run starts as `read_from` says.")
          .option("checkpoint_dir", OptionType::String)
          .doc(
              "Directory of the checkpoint file; default `<data_dir>/file-source`. The file is named by the "
              "pipeline and the absolute path: `<pipeline>-<16 hex digits of FNV-1a 64 of the path>.json`.")
          .build();
  return schema;
}

std::string FileSource::checkpoint_path(const std::string& dir, const std::string& pipeline,
                                        const std::string& abs_path) {
  return CheckpointFile(dir, pipeline, abs_path).path();
}

FileSource::FileSource(PluginContext& ctx, const Config& config)
    : ctx_(ctx),
      path_(config.str("path")),
      abs_path_(fs::absolute(fs::path(path_)).lexically_normal().string()),
      lines_(config, "file '" + safe_utf8(path_) + "'"),
      follow_(config.boolean("follow")),
      poll_interval_(config.duration("poll_interval")),
      from_end_(config.str("read_from") == "end"),
      use_checkpoint_(config.boolean("checkpoint")) {
  bytes_ = &ctx.metrics().counter("sluice_file_read_bytes_total", "Bytes read by file sources");
  truncations_ = &ctx.metrics().counter("sluice_file_truncations_total",
                                        "Files a file source found truncated and read again from the start");
  rotations_ = &ctx.metrics().counter("sluice_file_source_rotations_total",
                                      "New files a following file source found at its path (rotation)");
  if (use_checkpoint_) {
    std::string dir = config.has("checkpoint_dir") ? config.str("checkpoint_dir") : std::string();
    if (dir.empty()) dir = (fs::path(ctx.data_dir()) / "file-source").string();
    checkpoint_.emplace(dir, ctx.pipeline(), abs_path_);
  }
  // The file is opened here, so that a missing one fails the start; where to begin is chosen in
  // run(): on a reload, the instance this one replaces stores its last position when it is
  // destroyed, after this one is made and before it runs.
  std::string error;
  if (open_current(first_, &error)) {
    struct stat st {};
    if (::fstat(first_.fd, &st) == 0) initial_size_ = static_cast<std::uint64_t>(st.st_size);
  } else if (!follow_) {
    throw std::runtime_error("file source: cannot open '" + safe_utf8(path_) + "' for reading: " + error);
  } else {
    ctx.log().warn("file source: '", safe_utf8(path_), "' cannot be read yet (", error,
                   "); waiting for it (follow: true)");
  }
  if (use_checkpoint_) checkpoint_thread_ = std::thread([this] { checkpoint_loop(); });
}

FileSource::~FileSource() {
  close(first_);
  // A batch run() did not finish (it threw): not delivered, so never stored past.
  for (auto& e : batch_) e.ack.release(AckStatus::Failed);
  batch_ack_.release(AckStatus::Failed);
  if (checkpoint_thread_.joinable()) {
    // The thread stores what was acknowledged since its last write (a finite run's last batches), then ends.
    stop_thread_ = true;
    acked_->request_stop();
    checkpoint_thread_.join();
  }
}

bool FileSource::open_current(Reading& r, std::string* error) const {
  r = Reading{};
  const int fd = ::open(abs_path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = errno_text(errno);
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    *error = "not a regular file";
    ::close(fd);
    return false;
  }
  r.fd = fd;
  r.pos.file.dev = static_cast<std::uint64_t>(st.st_dev);
  r.pos.file.ino = static_cast<std::uint64_t>(st.st_ino);
  return true;
}

void FileSource::choose_start(Reading& r, bool at_start) {
  struct stat st {};
  const std::uint64_t size = ::fstat(r.fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  std::uint64_t start = 0;
  if (resume_) {
    const ReadPosition& cp = *resume_;
    const bool same = cp.file.same_file(r.pos.file) && cp.offset <= size &&
                      fnv1a64(pread_some(r.fd, cp.file.head_len, 0)) == cp.file.head_hash;
    if (same) {
      r.pos = cp;
      start = cp.offset;
      ctx_.log().info("file source: '", safe_utf8(path_), "': resuming at byte ", cp.offset, " (line ",
                      cp.line, ") from ", checkpoint_->path());
    } else {
      ctx_.log().info(
          "file source: '", safe_utf8(path_), "' is not the file of checkpoint ", checkpoint_->path(),
          cp.file.same_file(r.pos.file) ? " (it is shorter, or begins differently)" : " (another inode)",
          ": reading it from the start");
    }
  } else if (from_end_ && at_start) {
    // The end as it was when the pipeline was made: what is appended since is read.
    start = std::min(size, initial_size_);
    r.pos.offset = start;
  }
  resume_.reset();
  r.read_to = start;
  if (start > 0 && ::lseek(r.fd, static_cast<off_t>(start), SEEK_SET) < 0)
    throw std::runtime_error("file source: cannot seek in '" + safe_utf8(path_) + "': " + errno_text(errno));
}

void FileSource::close(Reading& r) const noexcept {
  if (r.fd >= 0) ::close(r.fd);
  r.fd = -1;
}

void FileSource::fingerprint(Reading& r) const {
  FileIdentity& id = r.pos.file;
  if (id.head_len >= FileIdentity::kHeadBytes || r.pos.offset <= id.head_len || r.fd < 0) return;
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(r.pos.offset, FileIdentity::kHeadBytes));
  const std::string head = pread_some(r.fd, n, 0);
  id.head_len = static_cast<std::uint32_t>(head.size());
  id.head_hash = fnv1a64(head);
}

bool FileSource::take_line(SourceContext& ctx, Reading& r, std::string_view text, std::uint64_t length,
                           std::uint64_t consumed) {
  if (!batch_seq_) {
    batch_seq_ = acked_->open();
    batch_ack_ = AckedPrefix::handle_for(acked_, *batch_seq_);
  }
  const std::uint64_t start = r.pos.offset;
  r.pos.offset = consumed;
  ++r.pos.line;
  Event e;
  std::string reason;
  const auto result = lines_.decode(text, length, r.pos.line, e, reason);
  if (result == LineDecoder::Result::Skip) return true;
  e.meta.set_attribute("file", abs_path_);
  e.meta.set_attribute("offset", std::to_string(start));
  e.ack = batch_ack_;
  if (result == LineDecoder::Result::DeadLetter) {
    e.meta.set_attribute("line", std::to_string(r.pos.line));
    ctx.dead_letter(std::move(e), std::move(reason));
    return true;
  }
  batch_.push_back(std::move(e));
  return batch_.size() < lines_.batch_size() || flush(ctx, r);
}

bool FileSource::flush(SourceContext& ctx, Reading& r) {
  if (!batch_seq_) return true;
  fingerprint(r);
  acked_->close(*batch_seq_, r.pos);
  batch_seq_.reset();
  bool ok = true;
  if (!batch_.empty()) {
    ok = ctx.emit(batch_);
    if (!ok)
      for (auto& e : batch_) e.ack.release(AckStatus::Failed);  // not taken: not to be stored past
    batch_.clear();
  }
  if (ok)
    batch_ack_.reset();
  else
    batch_ack_.release(AckStatus::Failed);
  return ok;
}

bool FileSource::drain(SourceContext& ctx, Reading& r, bool at_end_take_partial) {
  std::string chunk(kChunk, '\0');
  const std::uint64_t cap = lines_.max_line_bytes() + 1;  // enough to know a line is too long
  while (!ctx.stopping()) {
    const ssize_t n = ::read(r.fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw std::runtime_error("file source: reading '" + safe_utf8(path_) + "': " + errno_text(errno));
    if (n == 0) break;
    bytes_->inc(static_cast<std::uint64_t>(n));
    const std::uint64_t chunk_at = r.read_to;
    r.read_to += static_cast<std::uint64_t>(n);
    const std::string_view data(chunk.data(), static_cast<std::size_t>(n));
    std::size_t from = 0;
    while (from < data.size()) {
      const std::size_t nl = data.find('\n', from);
      const std::string_view piece =
          data.substr(from, nl == std::string_view::npos ? std::string_view::npos : nl - from);
      if (nl == std::string_view::npos) {
        if (r.partial.size() < cap)
          r.partial.append(piece.substr(0, static_cast<std::size_t>(cap - r.partial.size())));
        r.partial_len += piece.size();
        break;
      }
      const std::uint64_t consumed = chunk_at + nl + 1;
      bool ok;
      if (r.partial_len == 0) {
        ok = take_line(ctx, r, piece, piece.size(), consumed);
      } else {
        if (r.partial.size() < cap)
          r.partial.append(piece.substr(0, static_cast<std::size_t>(cap - r.partial.size())));
        r.partial_len += piece.size();
        const std::string line = std::move(r.partial);
        const std::uint64_t length = r.partial_len;
        r.partial.clear();
        r.partial_len = 0;
        ok = take_line(ctx, r, line, length, consumed);
      }
      if (!ok) return false;
      from = nl + 1;
    }
  }
  if (ctx.stopping()) return false;
  if (at_end_take_partial && r.partial_len > 0) {
    // The file's last line has no '\n': at the end of a finite read, or of a rotated-away file, it is whole.
    const std::string line = std::move(r.partial);
    const std::uint64_t length = r.partial_len;
    r.partial.clear();
    r.partial_len = 0;
    if (!take_line(ctx, r, line, length, r.read_to)) return false;
  }
  return flush(ctx, r);
}

void FileSource::run(SourceContext& ctx) {
  if (checkpoint_) {
    std::string error;
    resume_ = checkpoint_->load(&error);
    if (!error.empty()) ctx.log().warn("file source: ", error, "; reading as if there were none");
  }
  Reading r = first_;
  first_.fd = -1;
  if (r.fd >= 0) choose_start(r, true);
  if (!follow_) {
    drain(ctx, r, true);
    flush(ctx, r);  // stopped mid-batch: its events are refused and failed, their lines not stored past
    close(r);
    return;
  }
  std::string error;
  bool missing_told = false;
  while (!ctx.stopping()) {
    if (r.fd < 0) {
      if (!open_current(r, &error)) {
        if (!missing_told) ctx.log().info("file source: waiting for '", safe_utf8(path_), "' (", error, ")");
        missing_told = true;
        ctx.wait_stop(poll_interval_);
        continue;
      }
      choose_start(r, false);
      if (missing_told) ctx.log().info("file source: '", safe_utf8(path_), "' appeared; reading it");
      missing_told = false;
    }
    if (!drain(ctx, r, false)) break;
    struct stat st {};
    if (::fstat(r.fd, &st) == 0 && static_cast<std::uint64_t>(st.st_size) < r.read_to) {
      ctx.log().warn("file source: '", safe_utf8(path_), "' was truncated (", st.st_size, " bytes, ",
                     r.read_to, " read): reading it again from the start");
      truncations_->inc();
      const int fd = r.fd;
      r = Reading{};
      r.fd = fd;
      r.pos.file.dev = static_cast<std::uint64_t>(st.st_dev);
      r.pos.file.ino = static_cast<std::uint64_t>(st.st_ino);
      if (::lseek(fd, 0, SEEK_SET) < 0)
        throw std::runtime_error("file source: cannot seek in '" + safe_utf8(path_) +
                                 "': " + errno_text(errno));
      continue;
    }
    struct stat now {};
    if (::stat(abs_path_.c_str(), &now) == 0 && (static_cast<std::uint64_t>(now.st_dev) != r.pos.file.dev ||
                                                 static_cast<std::uint64_t>(now.st_ino) != r.pos.file.ino)) {
      // Rotated: what was written to the old file before the rename is still to be read.
      if (!drain(ctx, r, true)) break;
      ctx.log().info("file source: a new file is at '", safe_utf8(path_),
                     "' (rotation): reading it from the start");
      rotations_->inc();
      close(r);
      continue;  // opened from 0 at the top
    }
    // A path that is gone (renamed away, deleted) keeps the old file open: it may still grow.
    ctx.wait_stop(poll_interval_);
  }
  flush(ctx, r);
  close(r);
}

void FileSource::checkpoint_loop() {
  std::optional<ReadPosition> unsaved;  // acknowledged, not yet stored (a failed write is retried)
  bool failing = false;
  for (;;) {
    const bool last = stop_thread_.load();
    const auto now = std::chrono::steady_clock::now();
    if (auto pos = acked_->wait_new(last ? now : now + std::chrono::seconds(1))) unsaved = pos;
    if (unsaved) {
      std::string error;
      if (checkpoint_->store(*unsaved, &error)) {
        unsaved.reset();
        if (failing) ctx_.log().info("file source: checkpoint ", checkpoint_->path(), " written again");
        failing = false;
      } else if (!failing || last) {
        ctx_.log().error("file source: ", error, last ? "" : " (retried every second)");
        failing = true;
      }
    }
    if (last) return;
  }
}

}  // namespace sluice::file
