// append_whole(): a failed append is cut back, never left as a fragment to append after.
#include "sluice/append.hpp"

#include <sys/stat.h>
#include <unistd.h>

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

}  // namespace sluice
