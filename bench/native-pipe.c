// The floor of any proxy process, in any language: one epoll loop that copies bytes between each
// client connection and an upstream connection of its own, with no HTTP and no runtime at all.
// Built and run by bench/gateway.ts when a C compiler is at hand:
//   cc -O2 -o native-pipe native-pipe.c && ./native-pipe UPSTREAM_PORT   (prints its own port)
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FDS 65536

static int peer[MAX_FDS];

static int no_delay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static int write_all(int fd, const char *bytes, ssize_t length) {
  while (length > 0) {
    ssize_t written = write(fd, bytes, (size_t)length);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return -1;
    bytes += written;
    length -= written;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: native-pipe UPSTREAM_PORT\n");
    return 2;
  }
  struct sockaddr_in upstream = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
  upstream.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0 || listen(listener, 128) < 0 ||
      getsockname(listener, (struct sockaddr *)&address, &size) < 0) {
    perror("native-pipe");
    return 1;
  }
  printf("%d\n", ntohs(address.sin_port));
  fflush(stdout);

  int loop = epoll_create1(0);
  struct epoll_event event = {.events = EPOLLIN, .data.fd = listener};
  epoll_ctl(loop, EPOLL_CTL_ADD, listener, &event);
  static char buffer[65536];
  for (;;) {
    struct epoll_event ready[64];
    int count = epoll_wait(loop, ready, 64, -1);
    if (count < 0 && errno == EINTR) continue;
    for (int index = 0; index < count; index++) {
      int fd = ready[index].data.fd;
      if (fd == listener) {
        int client = accept(listener, NULL, NULL);
        if (client < 0) continue;
        int server = socket(AF_INET, SOCK_STREAM, 0);
        if (client >= MAX_FDS || server < 0 || server >= MAX_FDS ||
            connect(no_delay(server), (struct sockaddr *)&upstream, sizeof upstream) < 0) {
          close(client);
          if (server >= 0) close(server);
          continue;
        }
        no_delay(client);
        peer[client] = server;
        peer[server] = client;
        struct epoll_event from_client = {.events = EPOLLIN, .data.fd = client};
        struct epoll_event from_server = {.events = EPOLLIN, .data.fd = server};
        epoll_ctl(loop, EPOLL_CTL_ADD, client, &from_client);
        epoll_ctl(loop, EPOLL_CTL_ADD, server, &from_server);
        continue;
      }
      // The other side of a pair closed earlier in this batch.
      if (peer[fd] < 0) continue;
      ssize_t length = read(fd, buffer, sizeof buffer);
      if (length < 0 && errno == EINTR) continue;
      if (length <= 0 || write_all(peer[fd], buffer, length) < 0) {
        // Either side closed or failed: both connections end (epoll forgets a closed fd itself).
        int other = peer[fd];
        peer[fd] = -1;
        peer[other] = -1;
        close(fd);
        close(other);
      }
    }
  }
}
