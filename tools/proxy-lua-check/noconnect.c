/* proxy-lua-check: preloaded into the memcached it runs, so that checking a
 * config never reaches a backend: every IPv4/IPv6 connect() is refused and
 * no name is resolved (getaddrinfo fails as for an unknown host). memcached
 * itself listens nowhere (-p 0 -U 0). Everything else is untouched.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <sys/socket.h>

int connect(int fd, const struct sockaddr *addr, socklen_t len) {
    (void)fd; (void)len;
    if (addr && (addr->sa_family == AF_INET || addr->sa_family == AF_INET6)) {
        errno = ECONNREFUSED;
        return -1;
    }
    errno = EACCES;
    return -1;
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res) {
    (void)node; (void)service; (void)hints; (void)res;
    return EAI_NONAME;
}
