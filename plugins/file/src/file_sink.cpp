// Sink `file`. Lines of one write() are gathered per file in a reused buffer
// and written with one write(2) per file, so a batch costs one syscall (plus
// one fsync under `fsync: batch`) per file however many events it holds.
#include "file_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "path_confinement.hpp"

namespace sluice::file {

namespace fs = std::filesystem;

namespace {

std::system_error sys_error(const std::string& what, const std::string& path) {
  return std::system_error(errno, std::generic_category(), what + " '" + path + "'");
}

void fsync_dir_of(const std::string& path) {
  std::string dir = fs::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

const Schema& FileSink::schema() {
  static const Schema schema =
      SchemaBuilder()
          .option("path", OptionType::Template)
          .required()
          .doc(
              "File to append to, a template: `logs/access-{now:%Y-%m-%d}.log`, `out/{meta.topic}.log`. "
              "Parent directories are created; one file is kept open per distinct path.")
          .option("format", OptionType::Enum)
          .choices({"template", "columns", "json"})
          .def("json")
          .doc(
              "`template`: `template` rendered; `columns`: `columns` joined by `separator`; `json`: the "
              "event's payload as one JSON line.")
          .option("template", OptionType::Template)
          .doc("Line for `format: template`, e.g. \"{user_id}\\t{item_id}\" (a newline is added).")
          .option("columns", OptionType::StringList)
          .doc("Field references for `format: columns`, e.g. [user_id, item_id, meta.offset].")
          .option("separator", OptionType::String)
          .def("\"\\t\"")
          .doc("Column separator for `format: columns`.")
          .option("include_meta", OptionType::Bool)
          .def("false")
          .doc(
              "`format: json` only: write {\"meta\": {topic, partition, offset, key, timestamp, error}, "
              "\"payload\": ...} instead of the bare payload (useful for a dead-letter file).")
          .option("fsync", OptionType::Enum)
          .choices({"batch", "interval", "never"})
          .def("batch")
          .doc(
              "`batch`: fsync before a write is acknowledged (nothing acknowledged is lost in a crash); "
              "`interval`: acknowledged once written to the OS, fsynced every `fsync_interval` (a machine "
              "crash may lose that much, a process crash nothing); `never`: left to the OS.")
          .option("fsync_interval", OptionType::Duration)
          .def("1s")
          .range(1, std::nullopt)
          .doc("Period of fsync under `fsync: interval`.")
          .option("on_missing", OptionType::Enum)
          .choices({"skip", "empty", "dead_letter"})
          .def("empty")
          .doc(
              "A field the path or line refers to is missing: `skip` the event (acknowledged, not "
              "written), render it `empty`, or `dead_letter` it with the reason.")
          .option("max_size", OptionType::Size)
          .def("0")
          .doc("Rotate a file before it grows past this size (0: never): access.log -> access.log.1 ...")
          .option("rotate_interval", OptionType::Duration)
          .def("0ms")
          .doc("Rotate a file once it has been open this long (0: never).")
          .option("max_files", OptionType::Int)
          .def("5")
          .range(0, 1000)
          .doc("Rotated files kept per path (access.log.1 .. access.log.N); older ones are deleted.")
          .option("max_open_files", OptionType::Int)
          .def("64")
          .range(1, 100000)
          .doc("Most files kept open at once (least recently used are closed).")
          .build();
  return schema;
}

FileSink::FileSink(PluginContext& ctx, const Config& config) : ctx_(ctx) {
  std::string error;
  auto path = Template::parse(config.str("path"), &error);
  if (!path) throw std::runtime_error(config.where("path") + ": path: " + error);
  path_ = std::move(*path);
  path_literal_ = path_.is_literal();

  const std::string format = config.str("format");
  if (format == "template") {
    format_ = Format::Template;
    if (!config.has("template"))
      throw std::runtime_error(config.where("format") + ": format: template needs the 'template' option");
    auto t = Template::parse(config.str("template"), &error);
    if (!t) throw std::runtime_error(config.where("template") + ": template: " + error);
    template_ = std::move(*t);
  } else if (format == "columns") {
    format_ = Format::Columns;
    if (!config.has("columns") || config.strings("columns").empty())
      throw std::runtime_error(config.where("format") + ": format: columns needs a non-empty 'columns' list");
    for (const auto& c : config.strings("columns")) {
      auto f = FieldPath::parse(c, &error);
      if (!f) throw std::runtime_error(config.where("columns") + ": columns: '" + c + "': " + error);
      columns_.push_back(std::move(*f));
    }
  } else {
    format_ = Format::Json;
  }
  separator_ = config.str("separator");
  include_meta_ = config.boolean("include_meta");
  const std::string fsync = config.str("fsync");
  fsync_ = fsync == "interval" ? Fsync::Interval : fsync == "never" ? Fsync::Never : Fsync::Batch;
  fsync_interval_ = config.duration("fsync_interval");
  const std::string missing = config.str("on_missing");
  on_missing_ = missing == "skip"          ? OnMissing::Skip
                : missing == "dead_letter" ? OnMissing::DeadLetter
                                           : OnMissing::Empty;
  max_size_ = config.size("max_size");
  rotate_interval_ = config.duration("rotate_interval");
  max_files_ = static_cast<int>(config.integer("max_files"));
  max_open_files_ = static_cast<std::size_t>(config.integer("max_open_files"));

  rotations_ = &ctx.metrics().counter("sluice_file_rotations_total", "Files rotated by size or age");
  bytes_ = &ctx.metrics().counter("sluice_file_written_bytes_total", "Bytes written to files");

  // Fail at start, not at the first event, when the file cannot be written.
  if (path_literal_) {
    OpenFile& f = file_for(path_.text());
    (void)f;
  } else {
    const std::string dir = literal_dir_prefix(path_.text());
    if (!dir.empty()) {
      std::error_code ec;
      fs::create_directories(dir, ec);
      if (ec || ::access(dir.c_str(), W_OK) != 0)
        throw std::runtime_error("file sink: cannot write to directory '" + dir + "' (of path '" +
                                 path_.text() +
                                 "'): " + (ec ? ec.message() : std::string(std::strerror(errno))));
    }
  }
  if (fsync_ == Fsync::Interval) fsync_thread_ = std::thread([this] { fsync_loop(); });
}

FileSink::~FileSink() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  fsync_cv_.notify_all();
  if (fsync_thread_.joinable()) fsync_thread_.join();
  for (auto& [path, f] : files_) {
    if (fsync_ != Fsync::Never && f->unsynced && f->fd >= 0) ::fsync(f->fd);
    close(*f);
  }
}

void FileSink::open(OpenFile& f) {
  std::error_code ec;
  const fs::path parent = fs::path(f.path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  const bool existed = ::access(f.path.c_str(), F_OK) == 0;
  // Read access too, for cut_partial_line(); a file we may only write to is still appended to.
  f.fd = ::open(f.path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (f.fd < 0 && errno == EACCES) f.fd = ::open(f.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (f.fd < 0) {
    const int err = errno;
    throw std::runtime_error("file sink: cannot open '" + f.path + "' for writing: " + std::strerror(err) +
                             (ec ? " (creating its directory: " + ec.message() + ")" : std::string()));
  }
  // A process killed in the middle of a write leaves a line without its newline, never
  // acknowledged (it is delivered again): cut it, or the next line fuses with it.
  std::size_t cut = 0;
  if (existed) {
    if (const int err = cut_partial_line(f.fd, cut, fsync_ == Fsync::Batch))
      ctx_.log().warn("'", f.path, "' ends in a partial line that could not be cut: ", std::strerror(err));
    else if (cut > 0)
      ctx_.log().warn("'", f.path, "' ended in a partial line (", cut,
                      " bytes, left by a process killed while writing): cut; its events are delivered again");
  }
  struct stat st {};
  f.size = ::fstat(f.fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  f.opened_ms = now_ms();
  // A new directory entry is only durable once its directory is fsynced.
  if (!existed && fsync_ == Fsync::Batch) fsync_dir_of(f.path);
}

void FileSink::close(OpenFile& f) noexcept {
  if (f.fd >= 0) ::close(f.fd);
  f.fd = -1;
  f.unsynced = false;
}

FileSink::OpenFile& FileSink::file_for(const std::string& path) {
  auto it = files_.find(path);
  if (it == files_.end()) {
    evict_if_needed();
    auto f = std::make_unique<OpenFile>();
    f->path = path;
    open(*f);
    it = files_.emplace(path, std::move(f)).first;
  } else if (it->second->fd < 0) {
    open(*it->second);  // closed by reopen()
  }
  it->second->last_use = ++use_clock_;
  return *it->second;
}

void FileSink::evict_if_needed() {
  while (files_.size() >= max_open_files_) {
    // Only files untouched by the current write() can go: their buffers are empty.
    auto victim = files_.end();
    for (auto it = files_.begin(); it != files_.end(); ++it)
      if (it->second->group < 0 &&
          (victim == files_.end() || it->second->last_use < victim->second->last_use))
        victim = it;
    if (victim == files_.end()) return;  // every open file is in this batch: exceed the cap for now
    if (fsync_ != Fsync::Never && victim->second->unsynced && victim->second->fd >= 0)
      ::fsync(victim->second->fd);
    close(*victim->second);
    files_.erase(victim);
  }
}

void FileSink::write_out(OpenFile& f, std::size_t n) {
  if (f.fd < 0) open(f);
  // A failed append (a short write on a full disk, a failed fdatasync) is cut back: the retry
  // then appends whole lines, never after a fragment.
  const bool sync = fsync_ == Fsync::Batch;
  if (const int err = append_whole(f.fd, std::string_view(f.buf).substr(0, n), f.undo_to, sync)) {
    errno = err;
    throw sys_error(f.undo_to >= 0 ? "appending (and cutting back the partial line) to" : "appending to",
                    f.path);
  }
  f.size += n;
  bytes_->inc(n);
  f.buf.erase(0, n);
  f.unsynced = !sync;
}

void FileSink::rotate(OpenFile& f) {
  if (f.fd >= 0 && fsync_ != Fsync::Never && f.unsynced) ::fsync(f.fd);
  close(f);
  std::error_code ec;
  if (max_files_ == 0) {
    fs::remove(f.path, ec);
  } else {
    fs::remove(f.path + "." + std::to_string(max_files_), ec);
    for (int i = max_files_ - 1; i >= 1; --i) {
      const std::string from = f.path + "." + std::to_string(i);
      if (fs::exists(from, ec)) fs::rename(from, f.path + "." + std::to_string(i + 1), ec);
    }
    fs::rename(f.path, f.path + ".1", ec);
    if (ec) ctx_.log().warn("rotating '", f.path, "': ", ec.message());
  }
  rotations_->inc();
  open(f);
}

bool FileSink::render_line(const Event& event, std::string& out) const {
  bool complete = true;
  switch (format_) {
    case Format::Template:
      complete = template_.render_to(event, out);
      break;
    case Format::Columns:
      for (std::size_t i = 0; i < columns_.size(); ++i) {
        if (i > 0) out += separator_;
        if (!columns_[i].append_text(event, out)) complete = false;
      }
      break;
    case Format::Json: {
      if (include_meta_) {
        Json meta = {{"topic", event.meta.topic},
                     {"partition", event.meta.partition},
                     {"offset", event.meta.offset},
                     {"timestamp", event.timestamp_ms},
                     {"source", event.meta.source}};
        if (event.meta.key) meta["key"] = *event.meta.key;
        if (!event.meta.error.empty()) meta["error"] = event.meta.error;
        Json line = {{"meta", std::move(meta)}};
        if (event.parse())
          line["payload"] = event.fields();
        else
          line["payload"] = event.payload();
        out += line.dump(-1, ' ', false, Json::error_handler_t::replace);
        break;
      }
      const std::string& payload = event.payload();
      if (payload.find('\n') == std::string::npos) {
        out += payload;
      } else if (event.parse()) {  // pretty-printed JSON: one line per event
        out += event.fields().dump(-1, ' ', false, Json::error_handler_t::replace);
      } else {
        out += Json(payload).dump(-1, ' ', false, Json::error_handler_t::replace);
      }
      break;
    }
  }
  out += '\n';
  return complete;
}

WriteResult FileSink::write(Batch& batch) {
  std::lock_guard lock(mu_);
  // Result of each event: group index (>= 0, resolved after the writes), kOk, or an own error.
  constexpr int kOk = -1;
  constexpr int kOwnError = -2;
  std::vector<int> result(batch.size(), kOk);
  std::vector<std::string> own_errors;  // reasons of kOwnError events, in order
  std::vector<OpenFile*> touched;
  group_errors_.clear();
  bool any_failure = false;
  const std::int64_t now = rotate_interval_.count() > 0 ? now_ms() : 0;

  auto fail_event = [&](std::size_t i, std::string why) {
    result[i] = kOwnError;
    own_errors.push_back(std::move(why));
    any_failure = true;
  };

  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Event& event = batch[i];
    try {
      OpenFile* f = nullptr;
      if (path_literal_) {
        f = &file_for(path_.text());
      } else {
        path_buf_.clear();
        const bool complete = path_.render_to(event, path_buf_);
        if (!complete && on_missing_ != OnMissing::Empty) {
          if (on_missing_ == OnMissing::DeadLetter)
            fail_event(i, "missing field in path template '" + path_.text() + "'");
          continue;  // skip: acknowledged without a line
        }
        if (path_buf_.empty()) {
          fail_event(i, "path template '" + path_.text() + "' rendered empty");
          continue;
        }
        if (!dir_prefix_) dir_prefix_ = literal_dir_prefix(path_.text());
        if (auto escape = path_escape(*dir_prefix_, path_buf_)) {
          fail_event(i, "path template '" + path_.text() + "': " + *escape);
          continue;
        }
        f = &file_for(path_buf_);
      }
      if (f->group < 0) {
        f->group = static_cast<int>(group_errors_.size());
        group_errors_.emplace_back();
        touched.push_back(f);
      }
      if (!group_errors_[static_cast<std::size_t>(f->group)].empty()) {
        result[i] = f->group;  // this file already failed in this batch
        continue;
      }
      const std::size_t before = f->buf.size();
      bool complete;
      try {
        complete = render_line(event, f->buf);
      } catch (const ParseError& e) {
        f->buf.resize(before);
        fail_event(i, std::string("payload is not JSON: ") + e.what());
        continue;
      }
      if (!complete && on_missing_ != OnMissing::Empty) {
        f->buf.resize(before);
        if (on_missing_ == OnMissing::DeadLetter)
          fail_event(i, "missing field in line template '" +
                            (format_ == Format::Template ? template_.text() : std::string("columns")) + "'");
        continue;
      }
      result[i] = f->group;
      try {
        const bool too_big = max_size_ > 0 && f->size + f->buf.size() > max_size_ && f->size + before > 0;
        const bool too_old = rotate_interval_.count() > 0 && now - f->opened_ms >= rotate_interval_.count() &&
                             f->size + before > 0;
        if (too_big || too_old) {
          if (before > 0) write_out(*f, before);  // earlier lines belong to the old file
          rotate(*f);
        }
      } catch (const std::exception& e) {
        group_errors_[static_cast<std::size_t>(f->group)] = e.what();
        f->buf.clear();
        any_failure = true;
      }
    } catch (const std::exception& e) {  // opening a new path failed
      fail_event(i, e.what());
    }
  }

  for (OpenFile* f : touched) {
    auto& err = group_errors_[static_cast<std::size_t>(f->group)];
    if (err.empty() && !f->buf.empty()) {
      try {
        write_out(*f, f->buf.size());
      } catch (const std::exception& e) {
        err = e.what();
        any_failure = true;
      }
    }
    f->buf.clear();
    f->group = -1;
  }
  if (!path_literal_) evict_if_needed();

  if (!any_failure) return WriteResult::ok();
  WriteResult out;
  out.per_event.reserve(batch.size());
  std::size_t own = 0;
  for (int r : result) {
    if (r == kOk) {
      out.per_event.emplace_back(Outcome::Ok, std::string());
    } else if (r == kOwnError) {
      // Missing fields and unparsable payloads will not get better on retry.
      const std::string& why = own_errors[own++];
      const bool io = why.rfind("file sink:", 0) == 0;
      out.per_event.emplace_back(io ? Outcome::Retry : Outcome::Error, why);
    } else {
      const auto& err = group_errors_[static_cast<std::size_t>(r)];
      out.per_event.emplace_back(err.empty() ? Outcome::Ok : Outcome::Retry, err);
    }
  }
  return out;
}

void FileSink::flush(std::chrono::milliseconds) {
  std::lock_guard lock(mu_);
  if (fsync_ == Fsync::Never) return;
  for (auto& [path, f] : files_)
    if (f->unsynced && f->fd >= 0 && ::fsync(f->fd) == 0) f->unsynced = false;
}

void FileSink::reopen() {
  std::lock_guard lock(mu_);
  // logrotate renamed (or removed) the files: close them; the next write creates the path anew.
  for (auto& [path, f] : files_) {
    if (f->unsynced && f->fd >= 0 && fsync_ != Fsync::Never) ::fsync(f->fd);
    close(*f);
  }
  ctx_.log().info("reopened ", files_.size(), " file(s)");
}

void FileSink::fsync_loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    fsync_cv_.wait_for(lock, fsync_interval_, [this] { return stopping_; });
    if (stopping_) break;
    // fsync on duplicates outside the lock, so writes are not held up by the disk.
    std::vector<int> fds;
    for (auto& [path, f] : files_)
      if (f->unsynced && f->fd >= 0) {
        const int d = ::dup(f->fd);
        if (d >= 0) fds.push_back(d);
        f->unsynced = false;
      }
    lock.unlock();
    for (int d : fds) {
      ::fsync(d);
      ::close(d);
    }
    lock.lock();
  }
}

}  // namespace sluice::file
