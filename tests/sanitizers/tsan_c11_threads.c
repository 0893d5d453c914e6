/*
 * Linked into every executable of a TSan build (SLUICE_SANITIZE=thread), and only there.
 *
 * Debian's librdkafka uses the C11 threads API (thrd_create, mtx_lock, cnd_wait, ...). GCC 12's
 * ThreadSanitizer does not intercept it, and since glibc 2.34 those functions call glibc's
 * internal pthread code rather than the interposable pthread_* symbols TSan does intercept. So
 * librdkafka's threads are unknown to TSan (it crashes with SEGV as soon as one of them runs our
 * instrumented callbacks) and its locks are invisible (every event our code hands over through a
 * librdkafka queue would look like a race). These definitions, found before glibc's, route C11
 * threads through the pthread functions TSan intercepts. LLVM's TSan intercepts C11 threads itself
 * since LLVM 15; this file can go once the toolchain's does.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

static int c11_result(int err) {
  switch (err) {
    case 0:
      return thrd_success;
    case ENOMEM:
      return thrd_nomem;
    case EBUSY:
      return thrd_busy;
    case ETIMEDOUT:
      return thrd_timedout;
    default:
      return thrd_error;
  }
}

struct c11_start {
  thrd_start_t func;
  void* arg;
};

static void* c11_trampoline(void* p) {
  struct c11_start start = *(struct c11_start*)p;
  free(p);
  return (void*)(intptr_t)start.func(start.arg);
}

int thrd_create(thrd_t* thr, thrd_start_t func, void* arg) {
  struct c11_start* start = malloc(sizeof *start);
  if (!start) return thrd_nomem;
  start->func = func;
  start->arg = arg;
  const int err = pthread_create((pthread_t*)thr, NULL, c11_trampoline, start);
  if (err) free(start);
  return c11_result(err);
}

int thrd_join(thrd_t thr, int* res) {
  void* value = NULL;
  const int err = pthread_join((pthread_t)thr, &value);
  if (!err && res) *res = (int)(intptr_t)value;
  return c11_result(err);
}

int thrd_detach(thrd_t thr) {
  return c11_result(pthread_detach((pthread_t)thr));
}

_Noreturn void thrd_exit(int res) {
  pthread_exit((void*)(intptr_t)res);
}

int mtx_init(mtx_t* m, int type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  if (type & mtx_recursive) pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  const int err = pthread_mutex_init((pthread_mutex_t*)m, &attr);
  pthread_mutexattr_destroy(&attr);
  return c11_result(err);
}

int mtx_lock(mtx_t* m) {
  return c11_result(pthread_mutex_lock((pthread_mutex_t*)m));
}
int mtx_trylock(mtx_t* m) {
  return c11_result(pthread_mutex_trylock((pthread_mutex_t*)m));
}
int mtx_timedlock(mtx_t* restrict m, const struct timespec* restrict ts) {
  return c11_result(pthread_mutex_timedlock((pthread_mutex_t*)m, ts));
}
int mtx_unlock(mtx_t* m) {
  return c11_result(pthread_mutex_unlock((pthread_mutex_t*)m));
}
void mtx_destroy(mtx_t* m) {
  pthread_mutex_destroy((pthread_mutex_t*)m);
}

int cnd_init(cnd_t* c) {
  return c11_result(pthread_cond_init((pthread_cond_t*)c, NULL));
}
int cnd_signal(cnd_t* c) {
  return c11_result(pthread_cond_signal((pthread_cond_t*)c));
}
int cnd_broadcast(cnd_t* c) {
  return c11_result(pthread_cond_broadcast((pthread_cond_t*)c));
}
int cnd_wait(cnd_t* c, mtx_t* m) {
  return c11_result(pthread_cond_wait((pthread_cond_t*)c, (pthread_mutex_t*)m));
}
int cnd_timedwait(cnd_t* restrict c, mtx_t* restrict m, const struct timespec* restrict ts) {
  return c11_result(pthread_cond_timedwait((pthread_cond_t*)c, (pthread_mutex_t*)m, ts));
}
void cnd_destroy(cnd_t* c) {
  pthread_cond_destroy((pthread_cond_t*)c);
}
