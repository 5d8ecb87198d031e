/* Unit tests for milter/imap_fetch's one pure function: the envelope
 * sender hotline-imapd gives the rules, from the Return-Path: header the
 * receiving mail server recorded (libetpan's RFC 5322 parser). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "imap_fetch.h"

struct rp_case {
	const char *raw;
	const char *want;
};

static const struct rp_case rp_cases[] = {
	{"Return-Path: <anshin-hot@city.takasaki.example.jp>\r\nFrom: a@b.example\r\n"
	 "Subject: x\r\n\r\nbody\r\n",
	 "anshin-hot@city.takasaki.example.jp"},
	/* LF line ends, as a maildir may hold them */
	{"Return-Path: <a@b.example>\nSubject: x\n\nbody\n", "a@b.example"},
	/* the null sender */
	{"Return-Path: <>\r\nSubject: x\r\n\r\nbody\r\n", ""},
	/* none at all: the null sender too */
	{"From: a@b.example\r\nSubject: x\r\n\r\nbody\r\n", ""},
	/* the first one counts: the final delivery agent puts it on top */
	{"Return-Path: <first@a.example>\r\nReturn-Path: <second@b.example>\r\n\r\nbody\r\n",
	 "first@a.example"},
	/* after other headers, with raw 8-bit text in one of them */
	{"Received: from mx by mx; Thu, 20 Nov 2025 15:40:00 +0900\r\n"
	 "Subject: \xe3\x80\x90\xe9\x98\xb2\xe7\x8a\xaf\xe3\x80\x91\r\n"
	 "Return-Path: <x@y.example>\r\n\r\nbody\r\n",
	 "x@y.example"},
	/* a Return-Path: in the body is not a header */
	{"Subject: x\r\n\r\nReturn-Path: <body@evil.example>\r\n", ""},
	/* not a mail */
	{"this is not a mail\r\n", ""},
	{"", ""},
};

static void return_path_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rp_cases) / sizeof(rp_cases[0]); i++) {
		char out[256];

		memset(out, 'z', sizeof(out));
		if (!imap_return_path(rp_cases[i].raw, strlen(rp_cases[i].raw), out, sizeof(out)))
			fail_msg("case %zu: returned false", i);
		if (strcmp(out, rp_cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, out, rp_cases[i].want);
	}
}

static void return_path_too_long_is_refused(void **state)
{
	static const char raw[] = "Return-Path: <a-rather-long-address@example.jp>\r\n\r\nb\r\n";
	char out[8];

	(void)state;
	assert_false(imap_return_path(raw, strlen(raw), out, sizeof(out)));
	assert_string_equal(out, "");
}

static void return_path_needs_no_nul(void **state)
{
	/* raw is a counted buffer: nothing after len is read. */
	static const char raw[] = "Return-Path: <a@b.example>\r\n\r\nbodyXXXX";
	char out[64];

	(void)state;
	assert_true(imap_return_path(raw, strlen(raw) - 4, out, sizeof(out)));
	assert_string_equal(out, "a@b.example");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(return_path_table),
		cmocka_unit_test(return_path_too_long_is_refused),
		cmocka_unit_test(return_path_needs_no_nul),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
