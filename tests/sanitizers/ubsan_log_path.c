/*
 * Sends UBSan's reports to UBSAN_OPTIONS' log_path in the ASan+UBSan build.
 *
 * With GCC, -fsanitize=address,undefined loads two runtimes, libasan and libubsan, and
 * libubsan then leaves its common flags (log_path among them) to ASan's copy, so its reports
 * go to stderr whatever UBSAN_OPTIONS or ASAN_OPTIONS say: a UBSan finding in a child process
 * whose stderr a test discards showed only as an exit code. Linked into every executable of
 * that build (see CMakeLists.txt), this sets libubsan's own report path at load, so
 * tests/sanitizers/check_reports.sh finds its reports as it finds ASan's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

static int find_ubsan(struct dl_phdr_info* info, size_t size, void* data) {
  (void)size;
  if (info->dlpi_name && strstr(info->dlpi_name, "libubsan.so")) {
    *(const char**)data = info->dlpi_name;
    return 1;
  }
  return 0;
}

__attribute__((constructor)) static void ubsan_log_path(void) {
  const char* opts = getenv("UBSAN_OPTIONS");
  const char* p = opts ? strstr(opts, "log_path=") : NULL;
  if (!p) return;
  p += strlen("log_path=");
  char path[4096];
  const size_t n = strcspn(p, ":");
  if (n == 0 || n >= sizeof path) return;
  memcpy(path, p, n);
  path[n] = 0;
  const char* lib = NULL;
  dl_iterate_phdr(find_ubsan, &lib);
  void* h = lib ? dlopen(lib, RTLD_NOW | RTLD_NOLOAD) : NULL;
  if (!h) return;
  void (*set_path)(const char*);
  *(void**)&set_path = dlsym(h, "__sanitizer_set_report_path");
  if (set_path) set_path(path);
  dlclose(h);
}
