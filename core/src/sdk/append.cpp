// append_whole(): a failed append is cut back, never left as a fragment to append after.
#include "sluice/append.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace sluice {

int append_whole(int fd, std::string_view data, std::int64_t& undo_to, bool sync) noexcept {
  if (undo_to >= 0) {
    // Only ever shorten: a file reopened since (rotated away, recreated) is left as it is.
    struct stat st {};
    if (::fstat(fd, &st) != 0) return errno;
    if (st.st_size > undo_to && ::ftruncate(fd, static_cast<off_t>(undo_to)) != 0) return errno;
    undo_to = -1;
  }
  std::size_t written = 0;
  int error = 0;
  while (written < data.size()) {
    const ssize_t w = ::write(fd, data.data() + written, data.size() - written);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      error = w < 0 ? errno : EIO;
      break;
    }
    written += static_cast<std::size_t>(w);
  }
  if (error == 0 && sync && ::fdatasync(fd) != 0) error = errno;  // not known to be on disk: take it back
  if (error == 0 || written == 0) return error;
  // O_APPEND: the fragment is the last `written` bytes of the file.
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return error;
  const std::int64_t end = static_cast<std::int64_t>(st.st_size) - static_cast<std::int64_t>(written);
  if (end < 0) return error;
  if (::ftruncate(fd, static_cast<off_t>(end)) != 0) undo_to = end;
  return error;
}

int cut_partial_line(int fd, std::size_t& cut, bool sync) noexcept {
  cut = 0;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return errno;
  if (!S_ISREG(st.st_mode) || st.st_size == 0) return 0;
  const off_t size = st.st_size;
  // Scan back from the end, a block at a time, for the last newline.
  char block[4096];
  off_t end = size;
  off_t keep = 0;  // the length of the file up to and including its last newline
  while (end > 0) {
    const off_t begin = std::max<off_t>(0, end - static_cast<off_t>(sizeof block));
    const std::size_t want = static_cast<std::size_t>(end - begin);
    std::size_t got = 0;
    while (got < want) {
      const ssize_t r = ::pread(fd, block + got, want - got, begin + static_cast<off_t>(got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return errno;
      if (r == 0) return EIO;  // shrunk under us
      got += static_cast<std::size_t>(r);
    }
    if (end == size && block[want - 1] == '\n') return 0;  // ends with a whole line
    const char* nl = nullptr;
    for (std::size_t i = want; i-- > 0;)
      if (block[i] == '\n') {
        nl = block + i;
        break;
      }
    if (nl != nullptr) {
      keep = begin + static_cast<off_t>(nl - block) + 1;
      break;
    }
    end = begin;
  }
  if (::ftruncate(fd, keep) != 0) return errno;
  cut = static_cast<std::size_t>(size - keep);
  if (sync && ::fdatasync(fd) != 0) return errno;
  return 0;
}

}  // namespace sluice
