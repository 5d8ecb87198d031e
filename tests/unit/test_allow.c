/* Unit tests for admin/allow: hotline-admin's client address allowlist. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "allow.h"

static void empty_allows_everyone(void **state)
{
	char err[200];
	struct allow *a = allow_new(" , ", err, sizeof(err));

	(void)state;
	assert_non_null(a);
	assert_true(allow_everyone(a));
	allow_free(a);
}

static void blocks_and_addresses(void **state)
{
	char err[200];
	struct allow *a =
		allow_new("10.20.0.0/16, 192.168.1.5 fd00::/8,172.16.0.0/12", err, sizeof(err));

	(void)state;
	assert_non_null(a);
	assert_false(allow_everyone(a));
	assert_true(allow_match(a, "10.20.0.1"));
	assert_true(allow_match(a, "10.20.255.255"));
	assert_false(allow_match(a, "10.21.0.1"));
	assert_true(allow_match(a, "192.168.1.5"));
	assert_false(allow_match(a, "192.168.1.6"));
	assert_true(allow_match(a, "172.31.200.1")); /* /12: 172.16-172.31 */
	assert_false(allow_match(a, "172.32.0.1"));
	assert_true(allow_match(a, "fd12:3456::1"));
	assert_false(allow_match(a, "fe80::1"));
	assert_true(allow_match(a, "::ffff:10.20.3.4")); /* IPv4-mapped */
	assert_false(allow_match(a, "::ffff:10.21.3.4"));
	assert_false(allow_match(a, "127.0.0.1"));
	assert_false(allow_match(a, "unix"));
	assert_false(allow_match(a, ""));
	allow_free(a);
}

static void prefix_edges(void **state)
{
	char err[200];
	struct allow *a = allow_new("0.0.0.0/0", err, sizeof(err)), *b;

	(void)state;
	assert_non_null(a);
	assert_true(allow_match(a, "203.0.113.9"));
	assert_false(allow_match(a, "2001:db8::1")); /* families do not mix */
	allow_free(a);
	b = allow_new("203.0.113.8/31", err, sizeof(err));
	assert_non_null(b);
	assert_true(allow_match(b, "203.0.113.8"));
	assert_true(allow_match(b, "203.0.113.9"));
	assert_false(allow_match(b, "203.0.113.10"));
	allow_free(b);
}

static void bad_entries_are_named(void **state)
{
	char err[200];
	static const char *const bad[] = {"10.0.0.0/33", "10.0.0.0/",	"10.0.0/8",   "fd00::/129",
					  "intranet",	 "10.0.0.1/-1", "10.0.0.1/8x"};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(allow_new(bad[i], err, sizeof(err)));
		assert_non_null(strstr(err, bad[i]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_allows_everyone),
		cmocka_unit_test(blocks_and_addresses),
		cmocka_unit_test(prefix_edges),
		cmocka_unit_test(bad_entries_are_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
