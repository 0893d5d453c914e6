#pragma once
// Sink `file`: one line per event, appended to files named by a template,
// with an fsync policy, size/time rotation and reopen on SIGHUP.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <sluice/sdk.hpp>

namespace sluice::file {

class FileSink : public Sink {
 public:
  FileSink(PluginContext& ctx, const Config& config);
  ~FileSink() override;
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  WriteResult write(Batch& batch) override;
  void flush(std::chrono::milliseconds deadline) override;
  void reopen() override;
  static const Schema& schema();
  /** The factory-side check of a config (file_config.cpp). */
  static void check(const Config& config, ConfigIssues& issues);

 private:
  enum class Format { Template, Columns, Json };
  enum class Fsync { Batch, Interval, Never };
  enum class OnMissing { Skip, Empty, DeadLetter };

  /** One open output file and the lines of the current write() not yet written to it. */
  struct OpenFile {
    std::string path;
    int fd = -1;
    std::uint64_t size = 0;      ///< bytes in the file (as far as this sink knows)
    std::int64_t opened_ms = 0;  ///< for rotate_interval
    std::uint64_t last_use = 0;  ///< LRU stamp
    std::string buf;             ///< pending lines (reused between writes)
    int group = -1;              ///< result group of the current write(), -1 when untouched
    bool unsynced = false;       ///< written since the last fsync
    std::int64_t undo_to = -1;   ///< a failed append still to cut back (see append_whole())
  };

  /** Renders one event's line into @p out; false when a field was missing. Throws ParseError. */
  bool render_line(const Event& event, std::string& out) const;
  OpenFile& file_for(const std::string& path);
  void open(OpenFile& f);
  void close(OpenFile& f) noexcept;
  /**
   * Appends the first @p n bytes of f.buf (and fsyncs per policy); throws std::system_error,
   * leaving none of them in the file.
   */
  void write_out(OpenFile& f, std::size_t n);
  void rotate(OpenFile& f);
  void evict_if_needed();
  void fsync_loop();

  PluginContext& ctx_;
  Template path_;
  bool path_literal_ = false;
  Format format_ = Format::Json;
  Template template_;
  std::vector<FieldPath> columns_;
  std::string separator_;
  bool include_meta_ = false;
  Fsync fsync_ = Fsync::Batch;
  std::chrono::milliseconds fsync_interval_{1000};
  OnMissing on_missing_ = OnMissing::Empty;
  std::uint64_t max_size_ = 0;
  std::chrono::milliseconds rotate_interval_{0};
  int max_files_ = 5;
  std::size_t max_open_files_ = 64;

  std::mutex mu_;  // write(), reopen(), flush() and the fsync thread
  std::unordered_map<std::string, std::unique_ptr<OpenFile>> files_;
  std::uint64_t use_clock_ = 0;
  std::string path_buf_;
  std::optional<std::string> dir_prefix_;  // rendered paths stay under it (path_confinement.hpp)
  std::vector<std::string> group_errors_;  // per result group: empty = ok

  std::thread fsync_thread_;
  std::condition_variable fsync_cv_;
  bool stopping_ = false;

  Counter* rotations_ = nullptr;
  Counter* bytes_ = nullptr;
};

}  // namespace sluice::file
