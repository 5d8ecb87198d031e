/*
 * listen — listening sockets from configured addresses; see listen.h.
 */
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "str.h"

/* Fill ss from "IP:PORT" or "[IPv6]:PORT"; false when it is neither. */
static bool parse_inet(const char *addr, struct sockaddr_storage *ss, socklen_t *len)
{
	const char *colon = strrchr(addr, ':'), *host = addr;
	char buf[64];
	long long port;
	size_t hlen;

	if (colon == NULL || !str_to_ll(colon + 1, 1, 65535, &port))
		return false;
	if (*host == '[') {
		host++;
		if (colon == host || colon[-1] != ']')
			return false;
		hlen = (size_t)(colon - host - 1);
	} else {
		hlen = (size_t)(colon - host);
	}
	if (hlen == 0 || hlen >= sizeof(buf))
		return false;
	memcpy(buf, host, hlen);
	buf[hlen] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (addr[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)port);
		*len = sizeof(*s6);
		return inet_pton(AF_INET6, buf, &s6->sin6_addr) == 1;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)port);
		*len = sizeof(*s4);
		return inet_pton(AF_INET, buf, &s4->sin_addr) == 1;
	}
}

int listen_open(const char *addr, int backlog, unsigned unix_mode, char **unix_path, char *err,
		size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	int fd = -1, on = 1;

	*unix_path = NULL;
	if (strncmp(addr, "unix:", 5) == 0) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&ss;

		memset(&ss, 0, sizeof(ss));
		sun->sun_family = AF_UNIX;
		if (!str_copy(sun->sun_path, addr + 5, sizeof(sun->sun_path))) {
			str_msg(err, errlen, "%s: socket path too long", addr);
			return -1;
		}
		sslen = sizeof(*sun);
		*unix_path = strdup(addr + 5);
		if (*unix_path == NULL) {
			str_msg(err, errlen, "out of memory");
			return -1;
		}
		/* A socket file left by a crash would make bind() fail. */
		unlink(*unix_path);
	} else if (!parse_inet(addr, &ss, &sslen)) {
		str_msg(err, errlen,
			"%s: not a listen address (IP:PORT, [IPv6]:PORT or unix:/path)", addr);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto sys;
	if (ss.ss_family != AF_UNIX)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0)
		goto sys;
	if (*unix_path != NULL && chmod(*unix_path, (mode_t)unix_mode) < 0)
		goto sys;
	if (listen(fd, backlog) < 0)
		goto sys;
	return fd;
sys:
	str_msg(err, errlen, "cannot listen on %s: %s", addr, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (*unix_path != NULL) {
		unlink(*unix_path);
		free(*unix_path);
		*unix_path = NULL;
	}
	return -1;
}
