/*
 * A deliberate finding for the sanitizer in use (a heap overflow under ASan, or with the argument
 * `ub` a signed overflow for UBSan; a data race under TSan), so that canary_test.sh can check that a report from a child process nobody waits on
 * still fails the test around it.
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>

static int shared;

static void* bump(void* arg) {
  shared++;
  return arg;
}

int main(int argc, char** argv) {
#if defined(__SANITIZE_THREAD__)
  pthread_t t;
  pthread_create(&t, NULL, bump, NULL);
  shared++; /* unsynchronised with the thread's increment */
  pthread_join(t, NULL);
#else
  if (argc > 1 && argv[1][0] == 'u') { /* `canary ub`: a UBSan finding (signed overflow) */
    volatile int x = INT_MAX;
    x = x + argc;
    return x == 0;
  }
  /* A size the compiler cannot know, so the finding is ASan's, not UBSan's object-size check. */
  volatile char* p = malloc(3 + (size_t)argc);
  p[3 + argc] = 1; /* one past the end */
  free((void*)p);
#endif
  (void)bump;
  return 0;
}
