/* Unit tests for milter/match: parsing the [milter] match lists, matching
 * addresses and @domains, the per-message decision, envelope arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "match.h"

static struct match_list *list(const char *spec)
{
	char err[256];
	struct match_list *l = match_list_new(spec, err, sizeof(err));

	if (l == NULL)
		fail_msg("match_list_new(\"%s\"): %s", spec, err);
	return l;
}

static void parses_entries_and_blanks(void **state)
{
	struct match_list *l;

	(void)state;
	l = list("");
	assert_int_equal(match_list_count(l), 0);
	match_list_free(l);
	l = list("   ");
	assert_int_equal(match_list_count(l), 0);
	match_list_free(l);
	l = list(" anshin-hot@city.takasaki.example.jp , @bousai.example.jp,x@y");
	assert_int_equal(match_list_count(l), 3);
	match_list_free(l);
	match_list_free(NULL);
}

/* Each bad list and the exact reason given. */
static const struct {
	const char *spec;
	const char *want;
} bad_lists[] = {
	{"a@b,,c@d", "empty entry 2 (two commas, or one at an end)"},
	{"a@b,", "empty entry 2 (two commas, or one at an end)"},
	{",a@b", "empty entry 1 (two commas, or one at an end)"},
	{"a@b c@d", "\"a@b c@d\" is not an address or @domain: it contains '?'"},
	{"<a@b>", "\"<a@b>\" is not an address or @domain: it contains '<'"},
	{"city.example.jp", "\"city.example.jp\" is not an address or @domain: it needs one '@'"},
	{"a@b@c", "\"a@b@c\" is not an address or @domain: it needs one '@'"},
	{"a@", "\"a@\" is not an address or @domain: the domain is empty"},
	{"@", "\"@\" is not an address or @domain: the domain is empty"},
};

static void refuses_bad_lists(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]); i++) {
		char err[256] = "";
		struct match_list *l = match_list_new(bad_lists[i].spec, err, sizeof(err));

		if (l != NULL)
			fail_msg("\"%s\" was accepted", bad_lists[i].spec);
		assert_string_equal(err, bad_lists[i].want);
	}
}

static void refuses_an_overlong_entry(void **state)
{
	char spec[400], err[256];

	(void)state;
	memset(spec, 'a', sizeof(spec) - 1);
	spec[sizeof(spec) - 1] = '\0';
	spec[10] = '@';
	assert_null(match_list_new(spec, err, sizeof(err)));
	assert_non_null(strstr(err, "is longer than 255 bytes"));
}

/* Each address against the list "anshin-hot@City.Takasaki.example.jp,
 * @bousai.example.jp". */
static const struct {
	const char *addr;
	bool want;
} addresses[] = {
	{"anshin-hot@city.takasaki.example.jp", true},
	{"ANSHIN-HOT@CITY.TAKASAKI.EXAMPLE.JP", true},
	{"anshin-hot@city.takasaki.example.jp.evil.example", false},
	{"xanshin-hot@city.takasaki.example.jp", false},
	{"other@city.takasaki.example.jp", false},
	{"alert@bousai.example.jp", true},
	{"alert@Bousai.Example.JP", true},
	{"alert@sub.bousai.example.jp", false},
	{"alert@notbousai.example.jp", false},
	{"@bousai.example.jp", false},
	{"", false},
};

static void matches_addresses_and_domains(void **state)
{
	struct match_list *l = list("anshin-hot@City.Takasaki.example.jp, @bousai.example.jp");
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(addresses) / sizeof(addresses[0]); i++)
		if (match_list_has(l, addresses[i].addr) != addresses[i].want)
			fail_msg("\"%s\" should %smatch", addresses[i].addr,
				 addresses[i].want ? "" : "not ");
	assert_false(match_list_has(l, NULL));
	assert_false(match_list_has(NULL, "a@b"));
	match_list_free(l);
}

static void decides_per_message(void **state)
{
	struct match_list *none = list(""), *snd = list("anshin-hot@city.example.jp"),
			  *rcp = list("@line-bridge.example.jp");
	const char *to_bridge[] = {"someone@else.example", "alerts@line-bridge.example.jp"};
	const char *to_others[] = {"someone@else.example"};

	(void)state;
	/* Both empty: nothing is copied, whatever the mail. */
	assert_false(match_message(none, none, "anshin-hot@city.example.jp", to_bridge, 2));
	/* Only senders. */
	assert_true(match_message(snd, none, "anshin-hot@city.example.jp", to_others, 1));
	assert_true(match_message(snd, none, "anshin-hot@city.example.jp", NULL, 0));
	assert_false(match_message(snd, none, "mayor@city.example.jp", to_bridge, 2));
	assert_false(match_message(snd, none, "", to_bridge, 2));
	/* Only recipients: at least one must match. */
	assert_true(match_message(none, rcp, "", to_bridge, 2));
	assert_false(match_message(none, rcp, "anshin-hot@city.example.jp", to_others, 1));
	assert_false(match_message(none, rcp, "anshin-hot@city.example.jp", NULL, 0));
	/* Both: sender AND a recipient. */
	assert_true(match_message(snd, rcp, "anshin-hot@city.example.jp", to_bridge, 2));
	assert_false(match_message(snd, rcp, "anshin-hot@city.example.jp", to_others, 1));
	assert_false(match_message(snd, rcp, "mayor@city.example.jp", to_bridge, 2));
	match_list_free(none);
	match_list_free(snd);
	match_list_free(rcp);
}

static const struct {
	const char *arg;
	bool ok;
	const char *want;
} envelope_args[] = {
	{"<anshin-hot@city.example.jp>", true, "anshin-hot@city.example.jp"},
	{"anshin-hot@city.example.jp", true, "anshin-hot@city.example.jp"},
	{"  <a@b>\t", true, "a@b"},
	{"<>", true, ""},
	{"", true, ""},
	{"<a@b", false, ""},
	{"a@b>", false, ""},
	{"<", false, ""},
};

static void strips_envelope_brackets(void **state)
{
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(envelope_args) / sizeof(envelope_args[0]); i++) {
		bool ok = match_envelope_addr(envelope_args[i].arg, out, sizeof(out));

		if (ok != envelope_args[i].ok)
			fail_msg("\"%s\": got %d", envelope_args[i].arg, ok);
		if (ok)
			assert_string_equal(out, envelope_args[i].want);
	}
	/* Too long for the buffer is an error, never a cut address. */
	assert_false(match_envelope_addr("<abcdefgh@example.jp>", out, 8));
	assert_false(match_envelope_addr(NULL, out, sizeof(out)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_entries_and_blanks),
		cmocka_unit_test(refuses_bad_lists),
		cmocka_unit_test(refuses_an_overlong_entry),
		cmocka_unit_test(matches_addresses_and_domains),
		cmocka_unit_test(decides_per_message),
		cmocka_unit_test(strips_envelope_brackets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
