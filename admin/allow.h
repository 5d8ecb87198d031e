/*
 * allow — the optional client address allowlist of hotline-admin
 * ([admin] allow_from): a list of addresses and CIDR blocks, IPv4 and IPv6,
 * separated by commas or spaces, e.g. "10.20.0.0/16, 192.168.1.5, fd00::/8".
 *
 * The staff server belongs on the city's internal network only; when the
 * network cannot guarantee that by itself, this list does.  An empty list
 * allows every address.
 */
#ifndef HL_ADMIN_ALLOW_H
#define HL_ADMIN_ALLOW_H

#include <stdbool.h>
#include <stddef.h>

struct allow;

/* Parse spec; NULL with why in err (naming the bad entry) when an entry is
 * not an address or a block, or out of memory.  An empty or blank spec
 * gives an empty list. */
struct allow *allow_new(const char *spec, char *err, size_t errlen);
void allow_free(struct allow *a);

/* True when the list is empty. */
bool allow_everyone(const struct allow *a);

/* True when ip (text, as httpd_remote_addr gives it) is in the list; an
 * address that does not parse is never allowed.  An IPv4-mapped IPv6
 * address (::ffff:10.0.0.1) is matched as the IPv4 address. */
bool allow_match(const struct allow *a, const char *ip);

#endif
