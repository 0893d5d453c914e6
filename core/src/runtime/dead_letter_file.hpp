#pragma once
// The default dead-letter destination of a pipeline that declares none: a
// JSON-lines file under the data directory. A dead-lettered event lets its
// source move past it (the Kafka offset is stored), so its record must be on
// disk first: each write is fsynced before it is acknowledged.
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

#include "sluice/plugin.hpp"

namespace sluice::core {

/** `<data_dir>/dead-letter/<pipeline>.jsonl`; bytes of the name other than [A-Za-z0-9._-] become '_'. */
std::string default_dead_letter_path(const std::string& data_dir, const std::string& pipeline);

/**
 * One JSON object (no newline) recording @p event: the time it was dead-lettered, the
 * pipeline, the reason (meta.error), the coordinates (source, topic, partition, offset,
 * key, event time) and the payload: `payload` when it is JSON, otherwise `payload_text`
 * (invalid UTF-8 replaced by U+FFFD).
 */
std::string dead_letter_record(const Event& event, const std::string& pipeline);

/** A Sink (run by the core like a declared dead-letter sink) appending dead_letter_record() lines. */
class DeadLetterFile final : public Sink {
 public:
  /** Opens @p path for appending, creating its directory. Throws std::runtime_error naming it. */
  DeadLetterFile(std::string path, std::string pipeline);
  ~DeadLetterFile() override;
  DeadLetterFile(const DeadLetterFile&) = delete;
  DeadLetterFile& operator=(const DeadLetterFile&) = delete;

  /** Ok once every line is written and fdatasync'ed; Retry (nothing left in the file) otherwise. */
  WriteResult write(Batch& batch) override;
  /** SIGHUP: the file may have been rotated away; the next write opens the path anew. */
  void reopen() override;
  const std::string& path() const noexcept { return path_; }
  /** Bytes of partial records (left by a killed process) cut from the end of the file when it was opened. */
  std::size_t cut_bytes() const noexcept { return cut_bytes_; }

 private:
  void open();

  const std::string path_;
  const std::string pipeline_;
  std::mutex mu_;  // write() and reopen()
  int fd_ = -1;
  std::int64_t undo_to_ = -1;  // see append_whole()
  std::string buf_;
  std::size_t cut_bytes_ = 0;
};

}  // namespace sluice::core
