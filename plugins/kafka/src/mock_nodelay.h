/*
 * librdkafka's mock cluster does not set TCP_NODELAY on its connections, which
 * every real Kafka broker does (SocketServer). With several requests in flight
 * per connection, Nagle's algorithm then holds a response back until the client
 * acknowledges the one before, and the client delays that acknowledgement by up
 * to 40 ms: producers waiting for delivery see 40 ms stalls that no real broker
 * causes. Accepted sockets inherit TCP_NODELAY from their listening socket on
 * Linux, so this sets it on the mock's listening sockets, found by their ports in
 * the bootstrap list. Call it right after rd_kafka_mock_cluster_new(), before
 * any client connects. Plain C: the out-of-process mock helper includes it too.
 */
#ifndef SLUICE_KAFKA_MOCK_NODELAY_H
#define SLUICE_KAFKA_MOCK_NODELAY_H

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

/** Sets TCP_NODELAY on this process's listening sockets whose port is in @p bootstraps ("h:p,h:p"). */
static inline void sluice_mock_cluster_nodelay(const char* bootstraps) {
  struct rlimit rl;
  int max_fd = 1024;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 65536)
    max_fd = (int)rl.rlim_cur;
  for (int fd = 0; fd < max_fd; ++fd) {
    int listening = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    struct sockaddr_storage addr;
    socklen_t alen = sizeof addr;
    if (getsockname(fd, (struct sockaddr*)&addr, &alen) != 0) continue;
    int port = 0;
    if (addr.ss_family == AF_INET)
      port = ntohs(((struct sockaddr_in*)&addr)->sin_port);
    else if (addr.ss_family == AF_INET6)
      port = ntohs(((struct sockaddr_in6*)&addr)->sin6_port);
    else
      continue;
    for (const char* p = bootstraps; p && *p;) {
      const char* colon = strchr(p, ':');
      if (!colon) break;
      const char* comma = strchr(colon, ',');
      if (atoi(colon + 1) == port) {
        const int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        break;
      }
      p = comma ? comma + 1 : NULL;
    }
  }
}

#endif
