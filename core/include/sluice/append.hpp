#pragma once
/**
 * @file append.hpp
 * @brief Appending whole records to a file, so that a failed write leaves no fragment.
 *
 * A write(2) to a full disk can write part of its buffer before it fails with
 * ENOSPC. A sink that then retries appends the whole record again after the
 * fragment, and the file holds a torn line (`2007231\t1000500\t500`). The file
 * sink and the core's default dead-letter file append through this one helper.
 */
#include <cstdint>
#include <string_view>

namespace sluice {

/**
 * Appends all of @p data to @p fd (opened with O_APPEND), retrying short writes and EINTR,
 * then, when @p sync, fdatasync()s it: the data is durable when this returns 0.
 *
 * On failure (of write() or of the fdatasync), the part of @p data already written is
 * truncated away, so a retry does not duplicate it and the file ends
 * where it ended before the call. When that truncation fails too, @p undo_to receives the
 * size the file must be cut back to; pass the same variable to the next call for this
 * file (also after reopening its path), which first retries the cut and fails (writing
 * nothing) until it succeeds; a file that is by then no longer than @p undo_to is left as it
 * is. Start with -1.
 *
 * Only regular files can be cut back; for others (a pipe, /dev/full) a failed call may
 * have written part of @p data.
 *
 * @return 0, or the errno of the failure (EIO when write() made no progress).
 */
int append_whole(int fd, std::string_view data, std::int64_t& undo_to, bool sync = false) noexcept;

}  // namespace sluice
