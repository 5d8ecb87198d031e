/* Unit tests for lib/str: truncation is reported, never silent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "str.h"

static void copy_fits_and_truncates(void **state)
{
	char buf[4];

	(void)state;
	assert_true(str_copy(buf, "abc", sizeof(buf)));
	assert_string_equal(buf, "abc");
	assert_false(str_copy(buf, "abcd", sizeof(buf)));
	assert_string_equal(buf, "abc"); /* prefix kept, NUL-terminated */
	assert_false(str_copy(buf, "x", 0));
}

static void printf_reports_truncation(void **state)
{
	char buf[8];
	size_t len = 0;

	(void)state;
	assert_true(str_printf(buf, sizeof(buf), "%d-%s", 42, "ab"));
	assert_string_equal(buf, "42-ab");
	assert_false(str_printf(buf, sizeof(buf), "%s", "123456789"));
	assert_true(str_appendf(buf, sizeof(buf), &len, "abc"));
	assert_true(str_appendf(buf, sizeof(buf), &len, "def"));
	assert_int_equal(len, 6);
	assert_false(str_appendf(buf, sizeof(buf), &len, "gh"));
	assert_string_equal(buf, "abcdefg");
	assert_int_equal(len, 7);
}

static void to_ll_is_strict(void **state)
{
	static const struct {
		const char *in;
		bool ok;
		long long want;
	} cases[] = {
		{"0", true, 0},	     {"65535", true, 65535}, {"-1", false, 0},
		{"65536", false, 0}, {"12x", false, 0},	     {"", false, 0},
		{" 5", false, 0},    {"5 ", false, 0},	     {"99999999999999999999", false, 0},
	};
	size_t i;
	long long v;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = -7;
		assert_int_equal(str_to_ll(cases[i].in, 0, 65535, &v), cases[i].ok);
		if (cases[i].ok)
			assert_int_equal(v, cases[i].want);
	}
}

static void trim_hex_and_nocase(void **state)
{
	char s[] = " \t value \r\n";
	char hex[5];
	const unsigned char bytes[] = {0x0f, 0xa0};

	(void)state;
	assert_string_equal(str_trim(s), "value");
	assert_true(str_hex(bytes, 2, hex, sizeof(hex)));
	assert_string_equal(hex, "0fa0");
	assert_false(str_hex(bytes, 2, hex, 4));
	assert_true(str_eq_nocase("Yes", "yES"));
	assert_false(str_eq_nocase("yes", "ye"));
}

static void unhex_round_trip_and_refusals(void **state)
{
	unsigned char in[4] = {0x00, 0x7f, 0xab, 0xff}, out[4];
	char hex[9];

	(void)state;
	assert_true(str_hex(in, sizeof(in), hex, sizeof(hex)));
	assert_true(str_unhex(hex, out, sizeof(out)));
	assert_memory_equal(in, out, sizeof(in));
	assert_true(str_unhex("007FABFF", out, sizeof(out)));
	assert_memory_equal(in, out, sizeof(in));
	assert_false(str_unhex("007fabfg", out, sizeof(out)));
	assert_false(str_unhex("007f", out, sizeof(out))); /* too short: stops at the NUL */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(copy_fits_and_truncates),
		cmocka_unit_test(printf_reports_truncation),
		cmocka_unit_test(to_ll_is_strict),
		cmocka_unit_test(trim_hex_and_nocase),
		cmocka_unit_test(unhex_round_trip_and_refusals),
	};

	return cmocka_run_group_tests_name("str", tests, NULL, NULL);
}
