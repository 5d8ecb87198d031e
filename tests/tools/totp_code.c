/*
 * totp_code — print the current 6-digit TOTP code of a base32 secret, for
 * integration tests that sign in to hotline-admin.
 *
 *   totp_code SECRET [OFFSET-STEPS]
 *
 * OFFSET-STEPS shifts the time by whole 30-second steps (e.g. -1 for the
 * previous code), so a test can get a second, different code at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "str.h"
#include "totp.h"

static int base32_decode(const char *in, unsigned char *out, size_t size)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned buf = 0;
	int bits = 0;
	size_t n = 0;

	for (; *in != '\0' && *in != '='; in++) {
		const char *p = strchr(alphabet, *in);

		if (p == NULL)
			return -1;
		buf = (buf << 5) | (unsigned)(p - alphabet);
		bits += 5;
		if (bits >= 8) {
			if (n == size)
				return -1;
			out[n++] = (unsigned char)(buf >> (bits - 8));
			bits -= 8;
		}
	}
	return (int)n;
}

int main(int argc, char **argv)
{
	unsigned char key[64];
	long long offset = 0;
	long code;
	int n;

	if (argc < 2 || argc > 3 || (argc == 3 && !str_to_ll(argv[2], -1000, 1000, &offset))) {
		fprintf(stderr, "usage: totp_code SECRET [OFFSET-STEPS]\n");
		return 2;
	}
	n = base32_decode(argv[1], key, sizeof(key));
	if (n <= 0) {
		fprintf(stderr, "totp_code: not a base32 secret\n");
		return 2;
	}
	code = totp_code_at(key, (size_t)n, TOTP_SHA1,
			    (uint64_t)((long long)totp_step((long long)time(NULL)) + offset), 6);
	if (code < 0)
		return 1;
	printf("%06ld\n", code);
	return 0;
}
