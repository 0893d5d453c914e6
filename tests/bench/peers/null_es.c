/* E0's null server: answers every Elasticsearch bulk request with success at once.
 *
 *   cc -O2 -pthread -o null_es null_es.c && ./null_es [DELAY_MS]
 *
 * prints PORT=N, then serves 127.0.0.1:N. DELAY_MS (default 0) holds every bulk
 * answer that long, a slow server without one (e.g. to see a source's backpressure).
 *
 * HTTP/1.1 keep-alive, a thread per connection, bodies with Content-Length (what
 * the sink sends). POST .../_bulk: one item per action line of the body, in
 * order, each answered with its own verb ({"index":{"status":201}}, update 200,
 * delete 200; a line after an action other than delete is its source and skipped),
 * `{"errors":false,"items":[...]}`. GET / answers like OpenSearch 2.19.6; any
 * other request 200 `{}` (HEAD without a body). SIGTERM: prints the requests and
 * items served to stderr, exits. Compiled at bench time by tests/bench/es_bench.py.
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static atomic_ulong requests, items;
static long delay_ms;

static const char kInfo[] =
    "{\"name\":\"null-es\",\"cluster_name\":\"null\",\"version\":{\"distribution\":\"opensearch\","
    "\"number\":\"2.19.6\",\"lucene_version\":\"9.12.2\"},\"tagline\":\"The OpenSearch Project\"}";

typedef struct {
  char *p;
  size_t len, cap;
} buf_t;

static void reserve(buf_t *b, size_t more) {
  if (b->len + more <= b->cap) return;
  size_t cap = b->cap ? b->cap : 65536;
  while (cap < b->len + more) cap *= 2;
  b->p = realloc(b->p, cap);
  if (!b->p) abort();
  b->cap = cap;
}

static void append(buf_t *b, const char *s, size_t n) {
  reserve(b, n);
  memcpy(b->p + b->len, s, n);
  b->len += n;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* The bulk answer for @body: one item per action line. */
static void bulk_answer(const char *body, size_t n, buf_t *out) {
  out->len = 0;
  append(out, "{\"errors\":false,\"items\":[", 25);
  const char *p = body, *end = body + n;
  int first = 1, skip = 0;
  unsigned long count = 0;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = nl ? nl : end;
    if (line_end > p) {
      if (skip) {
        skip = 0;
      } else {
        /* {"VERB":{...}} */
        const char *q = memchr(p, '"', (size_t)(line_end - p));
        const char *v = q ? q + 1 : NULL;
        const char *ve = v ? memchr(v, '"', (size_t)(line_end - v)) : NULL;
        if (!ve) {
          v = "index";
          ve = v + 5;
        }
        size_t vl = (size_t)(ve - v);
        if (!first) append(out, ",", 1);
        first = 0;
        append(out, "{\"", 2);
        append(out, v, vl);
        int create = vl == 5 && !memcmp(v, "index", 5);
        create = create || (vl == 6 && !memcmp(v, "create", 6));
        append(out, create ? "\":{\"status\":201}}" : "\":{\"status\":200}}", 17);
        skip = !(vl == 6 && !memcmp(v, "delete", 6));
        ++count;
      }
    }
    p = line_end + 1;
  }
  append(out, "]}", 2);
  atomic_fetch_add(&items, count);
}

static void *serve(void *arg) {
  int fd = (int)(long)arg;
  buf_t in = {0}, out = {0};
  char head[256];
  for (;;) {
    /* Headers. */
    char *eoh = NULL;
    while (!(eoh = in.len >= 4 ? memmem(in.p, in.len, "\r\n\r\n", 4) : NULL)) {
      reserve(&in, 65536);
      ssize_t r = recv(fd, in.p + in.len, in.cap - in.len, 0);
      if (r <= 0) goto done;
      in.len += (size_t)r;
    }
    size_t hlen = (size_t)(eoh - in.p) + 4;
    size_t clen = 0;
    int is_head = in.len >= 5 && !memcmp(in.p, "HEAD ", 5);
    int is_root = !memcmp(in.p, "GET / ", 6);
    int is_bulk = 0;
    {
      const char *sp = memchr(in.p, ' ', hlen);
      const char *sp2 = sp ? memchr(sp + 1, ' ', hlen - (size_t)(sp + 1 - in.p)) : NULL;
      if (sp && sp2) {
        const char *q = memchr(sp, '?', (size_t)(sp2 - sp));
        const char *path_end = q ? q : sp2;
        is_bulk = path_end - sp >= 6 && !memcmp(path_end - 5, "_bulk", 5);
      }
      for (const char *l = memchr(in.p, '\n', hlen); l && l < eoh; l = memchr(l + 1, '\n', (size_t)(eoh - l))) {
        if ((size_t)(eoh - l) > 16 && !strncasecmp(l + 1, "content-length:", 15))
          clen = strtoul(l + 16, NULL, 10);
      }
    }
    while (in.len < hlen + clen) {
      reserve(&in, hlen + clen - in.len);
      ssize_t r = recv(fd, in.p + in.len, in.cap - in.len, 0);
      if (r <= 0) goto done;
      in.len += (size_t)r;
    }
    const char *body;
    size_t blen;
    if (is_bulk) {
      if (delay_ms > 0) {
        struct timespec ts = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
      }
      bulk_answer(in.p + hlen, clen, &out);
      body = out.p;
      blen = out.len;
    } else if (is_root) {
      body = kInfo;
      blen = sizeof kInfo - 1;
    } else {
      body = "{}";
      blen = 2;
    }
    int hn = snprintf(head, sizeof head,
                      "HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=UTF-8\r\n"
                      "content-length: %zu\r\n\r\n",
                      is_head ? (size_t)0 : blen);
    if (write_all(fd, head, (size_t)hn) || (!is_head && write_all(fd, body, blen))) goto done;
    atomic_fetch_add(&requests, 1);
    /* Keep what came after this request (pipelining; the sink never does it). */
    memmove(in.p, in.p + hlen + clen, in.len - hlen - clen);
    in.len -= hlen + clen;
  }
done:
  close(fd);
  free(in.p);
  free(out.p);
  return NULL;
}

static void on_term(int sig) {
  (void)sig;
  char msg[128];
  int n = snprintf(msg, sizeof msg, "requests=%lu items=%lu\n", atomic_load(&requests), atomic_load(&items));
  if (write(2, msg, (size_t)n) < 0) _exit(1);
  _exit(0);
}

int main(int argc, char **argv) {
  if (argc > 1) delay_ms = strtol(argv[1], NULL, 10);
  signal(SIGTERM, on_term);
  signal(SIGPIPE, SIG_IGN);
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(ls, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 128) || getsockname(ls, (struct sockaddr *)&a, &al)) {
    perror("null_es");
    return 1;
  }
  printf("PORT=%d\n", ntohs(a.sin_port));
  fflush(stdout);
  for (;;) {
    int fd = accept(ls, NULL, NULL);
    if (fd < 0) continue;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    pthread_t t;
    pthread_create(&t, NULL, serve, (void *)(long)fd);
    pthread_detach(t);
  }
}
