/*
 * libFuzzer target for lib/mail: any bytes go through mail_decode(), which
 * must return a status and a message or an alert, never crash, leak or read
 * out of bounds.  Small limits make the depth, part and header checks
 * reachable with inputs the fuzzer can find; every third input uses the
 * defaults.  Build and run (seeds: the golden fixtures):
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -Ilib \
 *		$(pkg-config --cflags gmime-3.0) tests/fuzz/fuzz_mail.c lib/mail.c \
 *		lib/str.c lib/status.c lib/utf8.c $(pkg-config --libs gmime-3.0 openssl) \
 *		-o build/fuzz_mail
 *	build/fuzz_mail -max_total_time=60 -max_len=65536 tests/fixtures/mail
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Is s valid UTF-8 without control characters but \t and \n? */
static int clean_utf8(const unsigned char *s)
{
	size_t k, i;

	while (*s != '\0') {
		if (*s < 0x80) {
			if ((*s < 0x20 && *s != '\t' && *s != '\n') || *s == 0x7F)
				return 0;
			s++;
			continue;
		}
		if (*s >= 0xC2 && *s <= 0xDF)
			k = 2;
		else if (*s >= 0xE0 && *s <= 0xEF)
			k = 3;
		else if (*s >= 0xF0 && *s <= 0xF4)
			k = 4;
		else
			return 0;
		for (i = 1; i < k; i++)
			if ((s[i] & 0xC0) != 0x80)
				return 0;
		if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0) ||
		    (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90) ||
		    (s[0] == 0xC2 && s[1] < 0xA0))
			return 0; /* overlong, surrogate, too big, C1 control */
		s += k;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned n;
	struct mail_limits lim;
	struct mail_alert *a = NULL;
	char err[256];
	enum hl_status st;

	mail_limits_default(&lim);
	if (n++ % 3 != 0) {
		lim.max_headers = 64;
		lim.max_header_line = 2048;
		lim.max_mime_depth = 4;
		lim.max_parts = 16;
		lim.max_text_bytes = 16384;
	}
	st = mail_decode((const char *)data, size, &lim, &a, err, sizeof(err));
	if (st == HL_OK) {
		if (a == NULL || a->dedupe_key == NULL || a->subject == NULL || a->body == NULL)
			__builtin_trap();
		/* the contract: UTF-8, one-line subject, LF-only body */
		if (strchr(a->subject, '\n') != NULL || strchr(a->subject, '\t') != NULL ||
		    !clean_utf8((const unsigned char *)a->subject) ||
		    !clean_utf8((const unsigned char *)a->body))
			__builtin_trap();
	} else if (a != NULL || memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0') {
		__builtin_trap();
	}
	mail_alert_free(a);
	return 0;
}
