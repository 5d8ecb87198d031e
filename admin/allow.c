/*
 * allow — see allow.h.
 */
#include "allow.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

/* Entries a city would list are a handful; the bound keeps a typo from
 * turning into an unbounded allocation. */
#define ALLOW_MAX 256

struct block {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network order; 4 bytes used for IPv4 */
	unsigned prefix;	/* bits */
};

struct allow {
	struct block *b;
	size_t n;
};

/* Parse "addr" or "addr/prefix" into *out; false when it is neither. */
static bool parse_block(const char *text, struct block *out)
{
	char addr[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(text, '/');
	size_t alen = slash != NULL ? (size_t)(slash - text) : strlen(text);
	unsigned max;

	if (alen == 0 || alen >= sizeof(addr))
		return false;
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, addr, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return false;
	}
	out->prefix = max;
	if (slash != NULL) {
		long long p;

		if (!str_to_ll(slash + 1, 0, max, &p))
			return false;
		out->prefix = (unsigned)p;
	}
	return true;
}

static bool in_block(const struct block *b, int family, const unsigned char *addr)
{
	unsigned full = b->prefix / 8, rest = b->prefix % 8;

	if (b->family != family || memcmp(b->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((b->addr[full] ^ addr[full]) & (unsigned char)(0xFF00u >> rest)) == 0;
}

struct allow *allow_new(const char *spec, char *err, size_t errlen)
{
	struct allow *a = calloc(1, sizeof(*a));
	char *copy = strdup(spec != NULL ? spec : ""), *tok, *save = NULL;

	if (a == NULL || copy == NULL) {
		str_msg(err, errlen, "out of memory");
		goto fail;
	}
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		struct block blk;

		if (!parse_block(tok, &blk)) {
			str_msg(err, errlen,
				"\"%s\" is not an address or an address/prefix block "
				"(e.g. 10.20.0.0/16, 192.168.1.5, fd00::/8)",
				tok);
			goto fail;
		}
		if (a->n == ALLOW_MAX) {
			str_msg(err, errlen, "more than %d entries", ALLOW_MAX);
			goto fail;
		}
		if (a->n % 16 == 0) {
			struct block *nb = realloc(a->b, (a->n + 16) * sizeof(*nb));

			if (nb == NULL) {
				str_msg(err, errlen, "out of memory");
				goto fail;
			}
			a->b = nb;
		}
		a->b[a->n++] = blk;
	}
	free(copy);
	return a;
fail:
	free(copy);
	allow_free(a);
	return NULL;
}

void allow_free(struct allow *a)
{
	if (a == NULL)
		return;
	free(a->b);
	free(a);
}

bool allow_everyone(const struct allow *a)
{
	return a->n == 0;
}

bool allow_match(const struct allow *a, const char *ip)
{
	unsigned char addr[16];
	int family;
	size_t i;
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

	if (inet_pton(AF_INET, ip, addr) == 1) {
		family = AF_INET;
	} else if (inet_pton(AF_INET6, ip, addr) == 1) {
		family = AF_INET6;
		if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
			memmove(addr, addr + 12, 4);
			family = AF_INET;
		}
	} else {
		return false;
	}
	for (i = 0; i < a->n; i++)
		if (in_block(&a->b[i], family, addr))
			return true;
	return false;
}
