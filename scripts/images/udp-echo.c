/*
 * A UDP echo server for the routing-mesh tests: busybox-static has no UDP server. Each datagram
 * comes back prefixed with the container's hostname, so a test can tell replicas apart.
 * Usage: udp-echo PORT. Exits at once on SIGTERM, as a server should.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* As PID 1 a process gets no default SIGTERM action: without this, `docker stop` waits out its grace period. */
static void on_term(int sig) {
  (void)sig;
  _exit(0);
}

int main(int argc, char **argv) {
  signal(SIGTERM, on_term);
  int port = argc > 1 ? atoi(argv[1]) : 53;
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    perror("udp-echo: bind");
    return 1;
  }
  fprintf(stderr, "udp-echo: listening on udp port %d\n", port);
  char in[2048], out[2400];
  for (;;) {
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(fd, in, sizeof in - 1, 0, (struct sockaddr *)&from, &len);
    if (n < 0) {
      continue;
    }
    in[n] = 0;
    int m = snprintf(out, sizeof out, "%s %s", host, in);
    sendto(fd, out, (size_t)m, 0, (struct sockaddr *)&from, len);
  }
}
