// I/O fault shim of the file sink's tests, linked into the test executable (which exports
// its symbols, so calls from libsluice-core and the plugin library come here too). It stands
// in for write(2) and fdatasync(2): calls on file descriptors whose path contains the target
// set by io_faults_target() can be made short, made to fail, and are counted; every other
// call goes straight to the C library.
#include "io_faults.hpp"

#include <dlfcn.h>
#include <pthread.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace {

pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
char target[512];
long write_budget = -1; /* bytes targeted writes may still write; -1: unlimited */
int write_errno = ENOSPC;
int fdatasync_errno = 0;
long fdatasyncs = 0;

ssize_t (*real_write)(int, const void*, size_t) = nullptr;
int (*real_fdatasync)(int) = nullptr;

void resolve() {
  if (!real_write)
    real_write = reinterpret_cast<ssize_t (*)(int, const void*, size_t)>(dlsym(RTLD_NEXT, "write"));
  if (!real_fdatasync) real_fdatasync = reinterpret_cast<int (*)(int)>(dlsym(RTLD_NEXT, "fdatasync"));
}

// Called with mu held.
bool targeted(int fd) {
  if (!target[0]) return false;
  char link[64], path[1024];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return false;
  path[n] = 0;
  return std::strstr(path, target) != nullptr;
}

}  // namespace

extern "C" {

void io_faults_target(const char* path_part) {
  pthread_mutex_lock(&mu);
  std::snprintf(target, sizeof target, "%s", path_part ? path_part : "");
  write_budget = -1;
  fdatasync_errno = 0;
  fdatasyncs = 0;
  pthread_mutex_unlock(&mu);
}

void io_faults_write_budget(long bytes, int error) {
  pthread_mutex_lock(&mu);
  write_budget = bytes;
  write_errno = error;
  pthread_mutex_unlock(&mu);
}

void io_faults_fail_fdatasync(int error) {
  pthread_mutex_lock(&mu);
  fdatasync_errno = error;
  pthread_mutex_unlock(&mu);
}

long io_faults_fdatasyncs() {
  pthread_mutex_lock(&mu);
  const long n = fdatasyncs;
  pthread_mutex_unlock(&mu);
  return n;
}

ssize_t write(int fd, const void* buf, size_t count) {
  resolve();
  pthread_mutex_lock(&mu);
  if (write_budget < 0 || !targeted(fd)) {
    pthread_mutex_unlock(&mu);
    return real_write(fd, buf, count);
  }
  if (write_budget == 0) {
    const int e = write_errno;
    pthread_mutex_unlock(&mu);
    errno = e;
    return -1;
  }
  const size_t n = count < static_cast<size_t>(write_budget) ? count : static_cast<size_t>(write_budget);
  const ssize_t w = real_write(fd, buf, n);
  if (w > 0) write_budget -= w;
  pthread_mutex_unlock(&mu);
  return w;
}

int fdatasync(int fd) {
  resolve();
  pthread_mutex_lock(&mu);
  if (!targeted(fd)) {
    pthread_mutex_unlock(&mu);
    return real_fdatasync(fd);
  }
  ++fdatasyncs;
  const int e = fdatasync_errno;
  pthread_mutex_unlock(&mu);
  if (e) {
    errno = e;
    return -1;
  }
  return real_fdatasync(fd);
}

}  // extern "C"
