#pragma once
// Where the file source is in its file, which part of that is acknowledged, and the
// checkpoint file that keeps the acknowledged position across restarts.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <sluice/ack.hpp>

namespace sluice::file {

/**
 * Which file a position is in: device and inode, and a fingerprint of its first bytes,
 * so that a new file that happens to get a deleted file's inode is not taken for it.
 */
struct FileIdentity {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::uint32_t head_len = 0;   ///< bytes the fingerprint covers (at most kHeadBytes)
  std::uint64_t head_hash = 0;  ///< FNV-1a 64 of those bytes

  static constexpr std::uint32_t kHeadBytes = 1024;
  bool same_file(const FileIdentity& o) const noexcept { return dev == o.dev && ino == o.ino; }
};

/** A position: the byte after the last line taken, and how many lines that was. */
struct ReadPosition {
  FileIdentity file;
  std::uint64_t offset = 0;
  std::uint64_t line = 0;
};

/** FNV-1a 64 of @p bytes, continuing from @p hash (a stable hash: it is stored in files). */
std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t hash = 14695981039346656037ull) noexcept;

/**
 * The checkpoint file of one file source: `<dir>/<pipeline>-<hash of the absolute path>.json`,
 * JSON {"path", "pipeline", "dev", "inode", "head_len", "head_hash", "offset", "line"}. Written
 * to a temporary file, fsynced and renamed over the old one (and the directory fsynced), so a
 * crash leaves the old checkpoint or the new one, never a mix.
 */
class CheckpointFile {
 public:
  CheckpointFile(std::string dir, const std::string& pipeline, std::string abs_path);
  /** The stored position; nullopt when there is none (or it cannot be read: logged by the caller). */
  std::optional<ReadPosition> load(std::string* error) const;
  /** Stores @p pos durably; false with @p error when it could not. */
  bool store(const ReadPosition& pos, std::string* error) const;
  const std::string& path() const noexcept { return file_; }

 private:
  std::string dir_;
  std::string pipeline_;
  std::string abs_path_;
  std::string file_;
};

/**
 * The batches a file source emitted and not yet stored, in reading order. Each batch's
 * acknowledgement completes its entry, from any thread; the position to store is the end
 * of the completed prefix, so a batch acknowledged before an earlier one moves nothing. A
 * batch completed as Failed (neither delivered nor dead-lettered) stops the prefix for
 * good: its lines are read again after a restart. Thread-safe.
 */
class AckedPrefix {
 public:
  /** A new batch whose end is set later with close(); returns its number. */
  std::uint64_t open();
  /** Sets the end position of batch @p seq (before its acknowledgement can complete). */
  void close(std::uint64_t seq, const ReadPosition& end);
  /** Completes batch @p seq with @p status. */
  void complete(std::uint64_t seq, AckStatus status);
  /** An acknowledgement handle that completes batch @p seq. */
  static AckHandle handle_for(const std::shared_ptr<AckedPrefix>& self, std::uint64_t seq);

  /**
   * Waits until the stored position should move or @p stop is set (by request_stop()), at
   * most until @p until; returns the new position to store, nullopt when none.
   */
  std::optional<ReadPosition> wait_new(std::chrono::steady_clock::time_point until);
  /** The end of the completed prefix now (nullopt when nothing completed yet). */
  std::optional<ReadPosition> committed() const;
  /** Batches emitted and not completed. */
  std::size_t in_flight() const;
  void request_stop();

 private:
  enum class State : std::uint8_t { Open, Pending, Done, Failed };
  struct Entry {
    std::uint64_t seq;
    State state;
    ReadPosition end;
  };
  void advance_locked();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Entry> entries_;  // by seq, front not done
  std::uint64_t next_seq_ = 0;
  std::optional<ReadPosition> committed_;
  bool dirty_ = false;
  bool stop_ = false;
};

}  // namespace sluice::file
