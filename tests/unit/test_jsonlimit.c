/*
 * test_jsonlimit — json_nesting_ok() over a table of texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jsonlimit.h"

struct nesting_case {
	const char *text;
	int limit;
	bool ok;
};

static void nesting_table(void **state)
{
	static const struct nesting_case cases[] = {
		{"", 0, true},
		{"1", 0, true},
		{"{}", 0, false},
		{"{}", 1, true},
		{"[[1]]", 1, false},
		{"[[1]]", 2, true},
		{"{\"a\":[{\"b\":[]}]}", 4, true},
		{"{\"a\":[{\"b\":[]}]}", 3, false},
		/* brackets inside strings do not count, escaped quotes included */
		{"{\"a\":\"[[[[{{{{\"}", 1, true},
		{"{\"a\":\"\\\"[[[[\"}", 1, true},
		{"[\"\\\\\",[[]]]", 2, false},
		{"[\"\\\\\",[[]]]", 3, true},
		/* closing brackets without openers never go negative into "ok" */
		{"]]]]][[", 1, false},
		{"]]]]][", 1, true},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = json_nesting_ok(cases[i].text, strlen(cases[i].text), cases[i].limit);

		if (got != cases[i].ok)
			fail_msg("case %zu (%s, limit %d): got %d", i, cases[i].text,
				 cases[i].limit, got);
	}
}

static void length_bounds_the_scan(void **state)
{
	/* Only the n bytes given are read: the deep tail is not there. */
	const char *text = "[1][[[[[[";

	(void)state;
	assert_true(json_nesting_ok(text, 3, 1));
	assert_false(json_nesting_ok(text, strlen(text), 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nesting_table),
		cmocka_unit_test(length_bounds_the_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
