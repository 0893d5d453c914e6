#pragma once
// Source `file`: the lines of one file, to its end or following it as `tail -F` does,
// resuming after a restart from the acknowledged position stored in a checkpoint file.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <sluice/lines.hpp>
#include <sluice/sdk.hpp>

#include "read_position.hpp"

namespace sluice::file {

class FileSource : public Source {
 public:
  FileSource(PluginContext& ctx, const Config& config);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  void run(SourceContext& ctx) override;
  static const Schema& schema();
  /** The factory-side check of a config (file_source_config.cpp). */
  static void check(const Config& config, ConfigIssues& issues);
  /** The checkpoint file of a source reading @p abs_path in @p pipeline (under @p dir). */
  static std::string checkpoint_path(const std::string& dir, const std::string& pipeline,
                                     const std::string& abs_path);

 private:
  /** The file being read and what of it is taken. */
  struct Reading {
    int fd = -1;
    ReadPosition pos;               ///< after the last complete line taken
    std::uint64_t read_to = 0;      ///< bytes read from the file (pos.offset + pending bytes)
    std::string partial;            ///< a line without its '\n' yet (its first max_line_bytes + 1 bytes)
    std::uint64_t partial_len = 0;  ///< the partial line's full length so far
  };

  /** Opens the file now at the path: true when there is one (else @p error says why). */
  bool open_current(Reading& r, std::string* error) const;
  /**
   * Where reading a newly opened file starts: the checkpoint when it is of this file (only the
   * first file opened is compared with it); else, for the file present @p at_start, as
   * `read_from` says; else byte 0.
   */
  void choose_start(Reading& r, bool at_start);
  void close(Reading& r) const noexcept;
  /** Reads what the file has now and emits its lines; false when the pipeline stopped. */
  bool drain(SourceContext& ctx, Reading& r, bool at_end_take_partial);
  /** Takes one complete line (or the unterminated end of the file). */
  bool take_line(SourceContext& ctx, Reading& r, std::string_view text, std::uint64_t length,
                 std::uint64_t consumed);
  /** Emits the open batch (if any) up to the position taken so far; false when stopping. */
  bool flush(SourceContext& ctx, Reading& r);
  /** Keeps the fingerprint of the file's first bytes up to date for the position. */
  void fingerprint(Reading& r) const;
  void checkpoint_loop();

  PluginContext& ctx_;
  std::string path_;      ///< as configured
  std::string abs_path_;  ///< resolved against the working directory
  LineDecoder lines_;
  bool follow_;
  std::chrono::milliseconds poll_interval_;
  bool from_end_;
  bool use_checkpoint_;
  std::optional<CheckpointFile> checkpoint_;
  std::optional<ReadPosition> resume_;  ///< the checkpoint read when run() starts, until used

  Reading first_;                   ///< the file opened by the constructor (if any), taken by run()
  std::uint64_t initial_size_ = 0;  ///< its size then (where `read_from: end` starts)
  Batch batch_;
  std::optional<std::uint64_t> batch_seq_;
  AckHandle batch_ack_;

  std::shared_ptr<AckedPrefix> acked_ = std::make_shared<AckedPrefix>();
  std::atomic<bool> stop_thread_{false};
  std::thread checkpoint_thread_;

  Counter* bytes_ = nullptr;
  Counter* truncations_ = nullptr;
  Counter* rotations_ = nullptr;
};

}  // namespace sluice::file
