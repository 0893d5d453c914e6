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
#include <cstddef>
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

/**
 * Cuts a regular file that does not end in a newline back to its last complete line.
 *
 * A process killed (kill -9, a crash, a power cut) in the middle of a write(2) can leave the
 * first part of its buffer in the file: a line without its newline, never acknowledged. The
 * next line appended after it would fuse with it (`8008047\t408002001\t2001`). Call this on
 * a line file when it is opened for appending (with read access: O_RDWR), before the first
 * append; an empty file, or one ending in '\n', is left as it is.
 *
 * @param cut receives the number of bytes removed (0 when nothing was cut).
 * @param sync fdatasync() the file after cutting, so the cut itself survives a crash.
 * @return 0, or the errno of the failure (the file is then as it was, or cut).
 */
int cut_partial_line(int fd, std::size_t& cut, bool sync = false) noexcept;

}  // namespace sluice
