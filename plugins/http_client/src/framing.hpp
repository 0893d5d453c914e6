#pragma once
// The http_client source's framing: bytes of a response body, as they arrive in
// pieces of any size, cut into records. Newline-delimited JSON (the X v2 filtered
// stream: `\r\n` after each object, blank keep-alive lines) and Server-Sent
// Events. Nothing here touches a socket, so every case is a unit test and the
// splitters have a fuzz target (tests/fuzz/fuzz_http_client_framing.cpp).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::http_client {

/** One record cut from the body. */
struct Record {
  std::string data;   ///< the line (NDJSON) or the joined `data:` lines (SSE)
  std::string event;  ///< SSE `event:` ("" when none or NDJSON)
  std::string id;     ///< SSE `id:` in force when the event was dispatched
};

/** What one feed() found besides records. */
struct FeedResult {
  std::size_t keepalives = 0;  ///< blank lines (NDJSON) or comment lines (SSE)
  std::size_t oversize = 0;    ///< records dropped for passing the bound (each logged by the caller)
};

/** Cuts a byte stream into records; records are complete, a partial one is only ever kept. */
class Splitter {
 public:
  virtual ~Splitter() = default;
  /** Appends the records @p bytes complete to @p out. */
  virtual FeedResult feed(std::string_view bytes, std::vector<Record>& out) = 0;
  /**
   * The connection ended: what is held (a line cut by the disconnect) is dropped, never
   * emitted. Returns the bytes dropped.
   */
  virtual std::size_t reset() = 0;
};

/**
 * Newline-delimited records: each line ends with `\n` (a `\r` before it is removed);
 * lines of only spaces, tabs and `\r` are keep-alives. A line longer than
 * @p max_line bytes is skipped up to its end and counted as oversize.
 */
class LineSplitter : public Splitter {
 public:
  explicit LineSplitter(std::size_t max_line) : max_line_(max_line) {}
  FeedResult feed(std::string_view bytes, std::vector<Record>& out) override;
  std::size_t reset() override;

 private:
  std::size_t max_line_;
  std::string line_;
  bool skipping_ = false;  ///< inside a line already past max_line_
};

/**
 * Server-Sent Events (WHATWG HTML, "Interpreting an event stream"): lines end with
 * CRLF, LF or CR; `data:` lines join with `\n`; `event:` and `id:` set the event's
 * type and id (an id containing NUL is ignored); a blank line dispatches an event
 * with data; `:` lines are comments (keep-alives); other fields are ignored. An event
 * whose data passes @p max_event bytes is dropped and counted as oversize.
 */
class SseSplitter : public Splitter {
 public:
  explicit SseSplitter(std::size_t max_event) : max_event_(max_event) {}
  FeedResult feed(std::string_view bytes, std::vector<Record>& out) override;
  std::size_t reset() override;
  /**
   * The id of the last event dispatched (an `id:` line counts once a blank line ends its
   * event): kept across reset() and sent as `Last-Event-ID` on reconnect, so that the
   * server resends an event the disconnect cut.
   */
  const std::string& last_event_id() const noexcept { return last_id_; }

 private:
  void line(std::string_view text, std::vector<Record>& out, FeedResult& r);
  std::size_t max_event_;
  std::string line_;
  bool skipping_ = false;
  bool after_cr_ = false;  ///< the previous byte ended a line with CR: a LF now is part of it
  std::string data_;
  bool has_data_ = false;
  bool oversize_ = false;
  std::string event_;
  std::string id_buffer_;  ///< the spec's last event ID buffer: set by `id:` lines
  std::string last_id_;    ///< the spec's last event ID string: the buffer at the last dispatch
};

}  // namespace sluice::http_client
