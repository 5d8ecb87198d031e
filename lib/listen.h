/*
 * listen — opening a listening socket from a configured address:
 * "IP:PORT", "[IPv6]:PORT" or "unix:/path" (config.c checks the syntax).
 * One code path for TCP and unix sockets, used by every daemon.
 */
#ifndef HL_LISTEN_H
#define HL_LISTEN_H

#include <stddef.h>

/* A listening, close-on-exec socket, or -1 with err set.  For a unix
 * socket, *unix_path is the malloc'd path (the caller unlinks and frees it
 * at exit), a stale socket file is replaced, and the socket is made mode
 * `unix_mode` (e.g. 0660 so that Postfix's group can connect).  Otherwise
 * *unix_path is NULL. */
int listen_open(const char *addr, int backlog, unsigned unix_mode, char **unix_path, char *err,
		size_t errlen);

#endif
